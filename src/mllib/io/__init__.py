"""Model files: a versioned ``.npz`` archive with a JSON header, nothing pickled."""

from .modelfile import FORMAT, VERSION, ModelFileError, read_model_file, write_model_file
from .registry import load_model, register_model, save_model

__all__ = ["FORMAT", "VERSION", "ModelFileError", "load_model", "read_model_file",
           "register_model", "save_model", "write_model_file"]
