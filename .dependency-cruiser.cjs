/**
 * The dependency rule (ARCHITECTURE.md §2), enforced by the test command:
 *  - the two planes share only @spooky/config, @spooky/proto and @spooky/plumbing and never
 *    import each other;
 *  - config and proto never import a plane;
 *  - plumbing (process plumbing both planes use) imports none of the other workspaces: it takes
 *    plain parameters, so it can serve both planes without knowing either or the contracts;
 *  - generated code is only imported through proto/src.
 */
module.exports = {
  forbidden: [
    { name: 'dataplane-not-controlplane', severity: 'error',
      from: { path: '^dataplane/' }, to: { path: '^controlplane/' } },
    { name: 'controlplane-not-dataplane', severity: 'error',
      from: { path: '^controlplane/' }, to: { path: '^dataplane/' } },
    { name: 'contracts-not-planes', severity: 'error',
      from: { path: '^(config|proto)/' }, to: { path: '^(dataplane|controlplane|test|bench)/' } },
    { name: 'plumbing-imports-no-workspace', severity: 'error',
      from: { path: '^plumbing/' }, to: { path: '^(config|proto|dataplane|controlplane|test|bench)/' } },
    { name: 'config-not-proto', severity: 'error',
      from: { path: '^config/' }, to: { path: '^proto/' } },
    { name: 'gen-only-through-proto', severity: 'error',
      from: { path: '^(dataplane|controlplane|config)/' }, to: { path: '^proto/gen/' } },
    { name: 'no-test-helpers-in-production', severity: 'error',
      comment: 'testing/ folders and *.test.ts serve tests only',
      from: { path: '^(config|proto|plumbing|dataplane|controlplane)/src/', pathNot: '(\\.test\\.ts$|/testing/|/fake-[^/]*\\.ts$)' },
      to: { path: '(/testing/|\\.test\\.ts$)' } },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'not-to-unresolvable', severity: 'error',
      from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|\\.tooling|\\.demo)/' },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    preserveSymlinks: false,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
