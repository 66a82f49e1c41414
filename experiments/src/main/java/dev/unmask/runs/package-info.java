/**
 * What the commands do and what a run leaves on disk: config resolution, policy specs and their grids,
 * the resumable sweep (shared between processes and machines by claim files), dLLM evaluation and
 * training-run folders, result tables, plots, reports, head-to-head comparisons, run manifests and the
 * provenance stored with a trained policy.
 */
package dev.unmask.runs;
