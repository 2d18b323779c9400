// `make crds`: writes every file the repository derives from code — the CRDs and docs/api.md from
// the zod schemas (crds.ts), the chart's RBAC template and CRD copies (chart-files.ts).
//
//   node operator/src/generate/main.ts           write the files
//   node operator/src/generate/main.ts --check   write nothing; exit 1 naming each stale file
//   … --root DIR                                 the same for another checkout
import { chartSet } from './chart-files.ts';
import { crdSet } from './crds.ts';
import { runGenerators } from './generated-files.ts';

if (import.meta.main) process.exitCode = runGenerators(process.argv.slice(2), [crdSet(), chartSet()]);
