"""The model: :class:`NeuralNetwork` and its parts.

- :mod:`.network`: the user's object (configuration, fitted preprocessing,
  prediction, model files), composed of the parts below.
- :mod:`.config`: the configuration in the notes' keys, checked.
- :mod:`.stack`: the layers, their parameter store and the passes over them.
- :mod:`.protocol`: the training protocol the engine uses (the base class).
- :mod:`.inspection`: ``gradients`` and ``cost`` by hand, with their own dropout stream.
- :mod:`.state`: the model as plain data and back, for :mod:`mllib.io`.
- :mod:`.summary`: a table of layers and parameter counts.
- :mod:`.presets`: logistic and softmax regression as one-layer networks.
"""
