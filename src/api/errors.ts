// Errors with a stable HTTP status, rendered by the API as Docker's {"message": ...}.
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}
export class NotFound extends ApiError {
  constructor(message: string) { super(404, message); }
}
export class Conflict extends ApiError {
  constructor(message: string) { super(409, message); }
}
export class BadRequest extends ApiError {
  constructor(message: string) { super(400, message); }
}
export class NotModified extends ApiError {
  constructor(message = '') { super(304, message); }
}
export class Forbidden extends ApiError {
  constructor(message: string) { super(403, message); }
}
export class ServerError extends ApiError {
  constructor(message: string) { super(500, message); }
}
export function statusOf(err: unknown): number {
  return err instanceof ApiError ? err.status : 500;
}
