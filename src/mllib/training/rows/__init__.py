"""The rows a model takes and gives back.

- :mod:`.inputs`: checks of X, y and sample weights.
- :mod:`.prepare`: rows in the model's dtype, standardized; labels as targets.
- :mod:`.targets`: labels ↔ the targets Y of the loss; :mod:`.target_scaling`:
  regression targets in their own units.
- :mod:`.sparse`: a SciPy sparse X, kept sparse.
- :mod:`.chunks`: inference a chunk of rows at a time; :mod:`.outputs`: finite
  out or a clear error; :mod:`.metrics`: accuracy and R² per epoch.
"""
