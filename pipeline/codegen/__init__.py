"""The code generator: .tflite in, C sources out."""
