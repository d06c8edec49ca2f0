"""Reading (and, for tests, writing) TFLite flatbuffers without TensorFlow."""
