// The swarm CA library: root CA, node certificates, join tokens, unlock keys, key encryption at
// rest (autolock) and mutual-TLS helpers. One file per concern; this only re-exports.

export * from './constants.js';
export { encodePem, decodePemBlocks, pemToDer, canonicalCertPem, type PemBlock } from './pem.js';
export * from './root-ca.js';
export * from './node-cert.js';
export * from './join-token.js';
export * from './unlock-key.js';
export * from './key-encryption.js';
export * from './tls.js';
export * from './root-rotation.js';
export * from './issuer.js';
