/**
 * What a run leaves on disk and how it is made reproducible: config resolution (file plus {@code --set}),
 * policy specs and their sweeps, the parallel resumable sweep, result tables, plots, head-to-head
 * comparisons of learned policies with the heuristics, run manifests and the provenance stored with a
 * trained policy.
 */
package dev.unmask.runs;
