"""`invoke export`: a generated model as a C library for another firmware (templates in templates/)."""
