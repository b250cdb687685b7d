"""Model files: a versioned ``.npz`` archive with a JSON header, nothing pickled; and the
bounded, typed reads that every file mllib reads goes through (:mod:`.bounded`,
:mod:`.jsontext`)."""

from .atomic import write_atomically
from .modelfile import (FORMAT, MAX_PARAMETERS, VERSION, Limits, ModelFileError,
                        model_file_bytes, read_model_bytes, read_model_file, write_model_file)
from .registry import dumps_model, load_model, loads_model, register_model, save_model

__all__ = ["FORMAT", "MAX_PARAMETERS", "VERSION", "Limits", "ModelFileError", "dumps_model",
           "load_model", "loads_model", "model_file_bytes", "read_model_bytes",
           "read_model_file", "register_model", "save_model", "write_atomically",
           "write_model_file"]
