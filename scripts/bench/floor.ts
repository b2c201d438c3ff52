/**
 * The floor: peak RSS and start-up of a bench child that does nothing
 * (node + the tsx loader). Other steps' peak RSS includes this.
 *
 *   node --conditions=alf-source --import tsx scripts/bench/floor.ts
 */
import { finishStep } from './protocol.ts';

finishStep({ lines: 0, bytes: 0, seconds: 0 });
