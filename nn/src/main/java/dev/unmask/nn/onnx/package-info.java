/**
 * ONNX plumbing shared by the dLLM and policy exports: a small graph builder over Tribuo's ONNX
 * operators, the extra operators it needs, and ONNX Runtime session options and environment.
 */
package dev.unmask.nn.onnx;
