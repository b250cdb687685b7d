"""The parameter and attribute documentation shared by the estimators' docstrings."""

TRAINING_DOC = """\
    solver : {"adam", "sgd", "lbfgs", "momentum", "rmsprop", "gd"}, default="adam"
        "adam", "rmsprop" and "gd" are mllib's optimizers (notes §7).
        "momentum" is the notes' EMA momentum ``v = β v + (1 − β) g``,
        ``θ -= α v`` with β = ``momentum``. "sgd" follows scikit-learn: with
        ``momentum == 0`` it is "gd"; otherwise it is momentum ``v = μ v − α g``,
        with Nesterov's look-ahead ``θ += μ v − α g`` if ``nesterovs_momentum``,
        else ``θ += v``: mllib's EMA momentum (``Momentum(nesterov=...)``) run
        with learning rate ``α / (1 − μ)``, step for step the same. "lbfgs"
        minimizes J over the flat parameter vector with SciPy's L-BFGS-B
        (full batch; see :mod:`mllib.sklearn._lbfgs`); it refuses dropout and
        batch norm, which make a full-batch J random or its statistics wrong.
    alpha : float >= 0, default=0.0001
        Strength of the penalty. On a batch of N rows the cost gets
        ``alpha/(2N) Σ_l Σ |W[l]|^p``, biases excluded: this is mllib's
        ``lambda_`` unchanged (``lambda_ = alpha``), and for ``lp_reg=2`` it is
        exactly scikit-learn's ``alpha/(2·n_samples)·Σ‖W‖²`` (its
        ``n_samples`` is the batch's size too). With ``sample_weight``, N is
        the batch's Σw, as in scikit-learn. Named ``alpha``, not
        ``lambda_``: scikit-learn takes any attribute ending in ``_`` for a
        fitted one.
    lp_reg : {0, 1, 2}, default=2
        The penalty's power p (L1 or L2); 0 turns it off.
    batch_size : int or "auto", default="auto"
        Rows per mini-batch; "auto" is ``min(200, n_samples)``. A size larger
        than the training set warns, as scikit-learn does, and means
        full-batch gradient descent. Not used by "lbfgs".
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        How α changes between epochs (see :mod:`mllib.sklearn._sgd`):
        "invscaling" is ``learning_rate_init / (t + 1)^power_t`` after each
        epoch, t the rows trained on so far; "adaptive" divides α by 5 each
        time the cost (or validation score) stops improving, instead of
        stopping, until α ≤ 1e-6. Used by every solver but "adam" and "lbfgs",
        as scikit-learn uses it for "sgd" only.
    learning_rate_init : float > 0, default=0.001 (0.01 for the linear models)
        α0, the initial learning rate.
    power_t : float >= 0, default=0.5
        The exponent of "invscaling".
    lr_decay : str, tuple, dict or callable, default=None
        mllib's schedule α(epoch), e.g. ``"rational:1.0"`` for α0/(1 + epoch)
        (see :func:`mllib.optim.make_schedule`); None keeps α0. Only with
        ``learning_rate="constant"``.
    max_iter : int >= 1, default=200
        Maximum number of epochs (of iterations for "lbfgs").
    shuffle : bool, default=True
        Draw a new order of the rows every epoch (from the network's seed).
    warm_start : bool, default=False
        ``fit`` continues from the fitted weights (and ``loss_curve_``)
        instead of starting again; the classes must be the same. The
        optimizer's moments start again at 0, as in scikit-learn.
    momentum : float in [0, 1), default=0.9
        β of "momentum" and μ of "sgd". scikit-learn also takes 1, which the
        EMA form cannot: v = β v + (1 − β) g stops learning at β = 1, and
        "sgd"'s rate α/(1 − μ) is infinite; 1 is refused.
    nesterovs_momentum : bool, default=True
        Nesterov's look-ahead for "sgd" (see :class:`mllib.optim.Momentum`),
        as scikit-learn; "momentum" stays the notes' plain EMA momentum.
    beta_1 : float in [0, 1), default=0.9
        Adam's first-moment weight.
    beta_2 : float in [0, 1) or None, default=None
        The second-moment weight of Adam and RMSProp. None is each
        optimizer's own default: 0.999 for Adam (as scikit-learn's), 0.9 for
        RMSProp (as the notes' code and Keras), which does not correct bias.
    epsilon : float > 0, default=1e-8
        Adam's and RMSProp's ε.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (stratified by class for
        single-label classifiers), stop when the validation accuracy (or R²)
        has not improved by more than ``tol`` for ``n_iter_no_change`` epochs,
        and keep the weights of the best epoch. Not with ``partial_fit``.
        The held-out rows keep their ``sample_weight``, which weights the
        validation score, as in scikit-learn. Outputs that are not finite score
        NaN, never the best. Training that diverges then ends without an error,
        as in scikit-learn: that epoch's loss and score are NaN, the weights of
        the best score come back (those the fit started from if no epoch
        scored) and a ConvergenceWarning says so. scikit-learn trains on to
        ``max_iter`` first; mllib stops at the diverged epoch, so ``n_iter_``
        and the curves end there. Without early stopping, divergence raises
        scikit-learn's ValueError at once.
    validation_fraction : float in [0, 1), default=0.1
    n_iter_no_change : int >= 1 or np.inf, default=10
        Epochs without an improvement larger than ``tol`` (of the training
        cost, or of the validation score with early stopping) before stopping.
    tol : float >= 0, default=1e-4
        Also "lbfgs"'s bound on the largest projected gradient component.
    max_fun : int >= 1, default=15000
        "lbfgs" only: the most evaluations of J.
    random_state : int, RandomState instance or None, default=None
        An int seed for the network's own Generator (weights, dropout,
        shuffling) is drawn from ``check_random_state(random_state)``, which
        also splits off the validation rows. None draws from NumPy's global
        RandomState, as scikit-learn does.
    verbose : bool, default=False
        Print scikit-learn's lines to stdout: ``Iteration N, loss = …`` per
        epoch, ``Validation score: …`` with early stopping, and why it stopped.
    dtype : {"float64", "float32"} or None, default=None
        The network's float type. None follows X, as scikit-learn: float32 X
        gives float32 weights and predictions, anything else float64."""

ATTRIBUTES_DOC = """\
    model_ : mllib.NeuralNetwork
        The fitted network; ``model_.save(path)`` writes it as a model file.
        With a stochastic solver, ``model_.history_`` logs every epoch since the
        last fresh start (``cost``, ``accuracy`` or ``r2``, ``lr`` as the
        optimizer takes it, ``time``), and ``model_.optimizer_`` is the
        optimizer with its state.
    coefs_ : list of ndarray
        ``coefs_[i]`` of shape (n[i], n[i+1]): **views** of the network's
        live ``W[i+1]``, transposed (writing into them changes the network).
    intercepts_ : list of ndarray
        ``intercepts_[i]`` of shape (n[i+1],): **views** of ``b[i+1]``.
        Assigned before the first fit (with ``coefs_``), as scikit-learn's
        MLP takes them, they are the weights that ``partial_fit``, or ``fit``
        with ``warm_start``, starts from; ``n_layers_``, ``n_outputs_`` and
        ``out_activation_`` may be assigned too, and must then be the network's.
    n_layers_ : int
        Layers of units, input and output included.
    n_outputs_ : int
        Output units.
    out_activation_ : {"logistic", "softmax", "identity", "exp"}
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X had string column names.
    n_iter_ : int
        Epochs run by the last call (iterations for "lbfgs"); with early
        stopping, a diverged epoch is the last.
    t_ : int
        Rows trained on, over all calls since the last fresh start.
    loss_ : float
        Training cost of the last epoch, penalty included (with
        ``sample_weight``, the weighted mean loss plus ``alpha/(2Σw)`` Σ|W|^p).
    loss_curve_ : list of float
        Training cost per epoch (per iteration for "lbfgs").
    best_loss_ : float or None
        The lowest training cost; None with early stopping.
    validation_scores_ : list of float or None
        Validation accuracy (or R²) per epoch with early stopping, else None.
    best_validation_score_ : float or None"""
