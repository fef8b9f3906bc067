"""Front ends into the graph dialect (ONNX); filled by the ONNX issue."""
