import { EventEmitter } from 'node:events';

// Docker's /events message (API 1.41 shape, with the legacy status/id/from fields).
export interface EngineEvent {
  Type: 'container' | 'image' | 'network' | 'volume' | 'daemon' | 'plugin' | 'node' | 'service' | 'secret' | 'config';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local' | 'swarm';
  time: number;
  timeNano: number;
  status?: string;
  id?: string;
  from?: string;
}

const HISTORY = 1000;

/** In-memory event bus with a bounded history so `/events?since=` can replay recent events. */
export class EventBus {
  private emitter = new EventEmitter();
  private history: EngineEvent[] = [];

  constructor() { this.emitter.setMaxListeners(0); }

  emit(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}, scope: EngineEvent['scope'] = 'local'): EngineEvent {
    const nowNs = BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1000)) * 1000n;
    const ev: EngineEvent = {
      Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope,
      time: Number(nowNs / 1_000_000_000n), timeNano: Number(nowNs),
    };
    if (type === 'container' || type === 'image') {
      ev.status = action; ev.id = id;
      if (type === 'container' && attributes.image) ev.from = attributes.image;
    }
    this.history.push(ev);
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    this.emitter.emit('event', ev);
    return ev;
  }

  since(timeNano: number): EngineEvent[] {
    return this.history.filter((e) => e.timeNano >= timeNano);
  }

  subscribe(fn: (ev: EngineEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }
}
