"""The training engine: the one loop of optimizer steps, and what drives it.

- :mod:`.trainer`: :class:`Trainer`, the loop (batches, held Ctrl-C, the step,
  hooks, history), and :func:`take_step`, its one step.
- :mod:`.fit`: ``NeuralNetwork.fit``, its checks and its run; :mod:`.plan`: what
  a call trains on; :mod:`.single_step`: ``train_on_batch``.
- :mod:`.resume`: where a run stands, to stop at any step and go on to the same bits.
- :mod:`.batches`: each batch's prepared rows; :mod:`.divergence`: stopping on
  non-finite steps.
- :mod:`.callbacks`: the per-epoch hooks (Keras's callbacks); :mod:`.checkpoint`:
  saving while training.
"""
