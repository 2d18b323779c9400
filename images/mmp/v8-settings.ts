// V8 settings the MMP sets for itself, first thing at start (main.ts imports this module before any
// other). NODE_OPTIONS accepts only a few V8 flags, and this one is not among them; the heap
// controller reads it each time it sets the next collection's limit, so setting it at run time works.
//
// An MMP holds thousands of idle sessions: its old generation is mostly live session objects plus
// the garbage of the logins that made them. V8 lets the old generation grow by a factor of up to
// 4 before its next full collection; at 1.2 it collects sooner and the process keeps less garbage
// resident. Measured (docs/performance.md, MMP, fifth round): 9,900 idle sessions in 172-177 MiB instead
// of 204-209, with no more CPU per login; --optimize-for-size saved a little more (172 MiB) but cost
// a third more CPU per login.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--heap-growing-percent=20');
