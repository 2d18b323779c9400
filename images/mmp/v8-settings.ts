// V8 settings the MMP sets for itself, first thing at start (main.ts imports this module before any
// other). NODE_OPTIONS accepts only a few V8 flags, and these are not among them; V8 reads them
// when it next decides (the heap controller at each collection's limit, the tiering manager at each
// hot function), so setting them at run time works.
//
// An MMP holds thousands of idle sessions: its old generation is mostly live session objects plus
// the garbage of the logins that made them. V8 lets the old generation grow by a factor of up to
// 4 before its next full collection; at 1.2 it collects sooner and the process keeps less garbage
// resident. Measured (docs/performance.md, MMP, fifth round): 9,900 idle sessions in 172-177 MiB instead
// of 204-209, with no more CPU per login; --optimize-for-size saved a little more (172 MiB) but cost
// a third more CPU per login.
//
// Without Maglev, V8's mid-tier compiler, hot functions go from the baseline code to TurboFan
// directly: the MMP's hot paths are few and stay hot (the login, the splice), and Maglev's own code
// and output are 3-4 MiB of resident memory for no CPU gained per login (docs/performance.md, MMP,
// eighth and ninth rounds).
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--heap-growing-percent=20');
setFlagsFromString('--no-maglev');
