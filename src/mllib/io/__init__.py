"""Model files: a versioned ``.npz`` archive with a JSON header, nothing pickled."""

from .modelfile import FORMAT, VERSION, ModelFileError, read_model_file, write_model_file

__all__ = ["FORMAT", "VERSION", "ModelFileError", "read_model_file", "write_model_file"]
