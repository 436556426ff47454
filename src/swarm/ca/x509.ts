// The one entry to @peculiar/x509. Its dependency tsyringe refuses to load unless a Reflect
// metadata API exists (it throws "tsyringe requires a reflect polyfill"). It only reads and writes
// metadata when its @injectable classes are declared, so a minimal store is enough and spares a
// dependency. The shim is installed only where no real polyfill (reflect-metadata) already is, and
// it must run before the library loads: ESM evaluates imports in order, so it comes first here.
import './reflect-shim.js';
export * from '@peculiar/x509';
