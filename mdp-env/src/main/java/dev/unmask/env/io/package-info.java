/**
 * Files the project writes and trusts: atomic writes, checkpoint folders verified by
 * {@code checksums.json}, SHA-256, the shared JSON mapper (stable, sorted output) and the safetensors
 * format.
 */
package dev.unmask.env.io;
