"""Training sessions that initialize, checkpoint, run hooks and recover
(tf.train.MonitoredTrainingSession, MonitoredSession, SessionRunHook,
StopAtStepHook, CheckpointSaverHook, LoggingTensorHook, Scaffold), as in
TensorFlow 1.x.

The chief initializes the variables (or restores the latest checkpoint of
checkpoint_dir); other workers wait until every global variable is
initialized (tf.report_uninitialized_variables), then run their local
initialization. A step that fails with UnavailableError or AbortedError (a
ps or worker restarted) makes the session recreate itself the same way and
run the step again; the chief then restores the last checkpoint.
"""
import collections
import os
import time

from . import errors
from .framework import GraphKeys, get_default_graph
from .queue_runner import Coordinator, start_queue_runners
from .session import Session

__all__ = ["SessionRunArgs", "SessionRunContext", "SessionRunValues", "SessionRunHook",
           "StopAtStepHook", "CheckpointSaverHook", "LoggingTensorHook", "Scaffold",
           "SessionManager", "ChiefSessionCreator", "WorkerSessionCreator", "MonitoredSession",
           "SingularMonitoredSession", "MonitoredTrainingSession",
           "report_uninitialized_variables"]


# ---------------------------------------------------------------- hooks

class SessionRunArgs(collections.namedtuple("SessionRunArgs", ["fetches", "feed_dict", "options"])):
    def __new__(cls, fetches, feed_dict=None, options=None):
        return super(SessionRunArgs, cls).__new__(cls, fetches, feed_dict, options)


class SessionRunContext(object):
    def __init__(self, original_args, session):
        self._original_args = original_args
        self._session = session
        self._stop_requested = False

    @property
    def original_args(self):
        return self._original_args

    @property
    def session(self):
        return self._session

    @property
    def stop_requested(self):
        return self._stop_requested

    def request_stop(self):
        self._stop_requested = True


SessionRunValues = collections.namedtuple("SessionRunValues", ["results", "options", "run_metadata"])


class SessionRunHook(object):
    """Hook into a MonitoredSession: begin, after_create_session, before_run,
    after_run, end."""

    def begin(self):
        pass

    def after_create_session(self, session, coord):
        pass

    def before_run(self, run_context):
        return None

    def after_run(self, run_context, run_values):
        pass

    def end(self, session):
        pass


def _global_step_tensor():
    from .train import get_global_step
    gs = get_global_step()
    if gs is None:
        raise RuntimeError("Global step should be created to use this hook.")
    return gs


class StopAtStepHook(SessionRunHook):
    """Requests a stop once the global step reaches last_step (or num_steps
    past its value at the first run)."""

    def __init__(self, num_steps=None, last_step=None):
        if num_steps is None and last_step is None:
            raise ValueError("One of num_steps or last_step must be specified.")
        if num_steps is not None and last_step is not None:
            raise ValueError("Only one of num_steps or last_step can be specified.")
        self._num_steps = num_steps
        self._last_step = last_step

    def begin(self):
        self._global_step_tensor = _global_step_tensor()

    def after_create_session(self, session, coord):
        if self._last_step is None:
            self._last_step = int(session.run(self._global_step_tensor)) + self._num_steps

    def before_run(self, run_context):
        return SessionRunArgs(self._global_step_tensor)

    def after_run(self, run_context, run_values):
        # The step just run advanced the global step at least once more.
        if int(run_values.results) + 1 >= self._last_step:
            step = int(run_context.session.run(self._global_step_tensor))
            if step >= self._last_step:
                run_context.request_stop()


class _Timer(object):
    def __init__(self, every_secs=None, every_steps=None):
        if (every_secs is None) == (every_steps is None):
            raise ValueError("exactly one of every_secs and every_steps must be given")
        self._secs, self._steps = every_secs, every_steps
        self._last_time = None
        self._last_step = None

    def should_trigger_for_step(self, step):
        if self._last_step is None:
            return True
        if self._steps is not None:
            return step >= self._last_step + self._steps
        return time.time() >= self._last_time + self._secs

    def update_last_triggered_step(self, step):
        self._last_time, self._last_step = time.time(), step


class CheckpointSaverHook(SessionRunHook):
    """Saves a checkpoint every save_secs or save_steps, and at the end."""

    def __init__(self, checkpoint_dir, save_secs=None, save_steps=None, saver=None,
                 checkpoint_basename="model.ckpt", scaffold=None, listeners=None):
        self._checkpoint_dir = checkpoint_dir
        self._save_path = os.path.join(checkpoint_dir, checkpoint_basename)
        self._timer = _Timer(every_secs=save_secs, every_steps=save_steps)
        self._saver = saver
        self._scaffold = scaffold

    def _get_saver(self):
        if self._saver is not None:
            return self._saver
        if self._scaffold is not None:
            return self._scaffold.saver
        from .graph_io import Saver
        self._saver = Saver()
        return self._saver

    def begin(self):
        self._global_step_tensor = _global_step_tensor()

    def after_create_session(self, session, coord):
        step = int(session.run(self._global_step_tensor))
        self._save(session, step)
        self._timer.update_last_triggered_step(step)

    def before_run(self, run_context):
        return SessionRunArgs(self._global_step_tensor)

    def after_run(self, run_context, run_values):
        step = int(run_values.results) + 1
        if self._timer.should_trigger_for_step(step):
            step = int(run_context.session.run(self._global_step_tensor))
            self._timer.update_last_triggered_step(step)
            self._save(run_context.session, step)

    def end(self, session):
        step = int(session.run(self._global_step_tensor))
        if step != self._timer._last_step:
            self._save(session, step)

    def _save(self, session, step):
        self._get_saver().save(session, self._save_path, global_step=step)


class LoggingTensorHook(SessionRunHook):
    """Prints the given tensors every_n_iter steps or every_n_secs."""

    def __init__(self, tensors, every_n_iter=None, every_n_secs=None, at_end=False,
                 formatter=None):
        if not isinstance(tensors, dict):
            self._tag_order = [t if isinstance(t, str) else t.name for t in tensors]
            tensors = dict(zip(self._tag_order, tensors))
        else:
            self._tag_order = sorted(tensors)
        self._tensors = tensors
        self._timer = _Timer(every_secs=every_n_secs, every_steps=every_n_iter) \
            if (every_n_iter or every_n_secs) else None
        self._formatter = formatter
        self._at_end = at_end
        self._iter = 0
        self._should_trigger = False

    def begin(self):
        g = get_default_graph()
        self._current = {k: (g.as_graph_element(v) if isinstance(v, str) else v)
                         for k, v in self._tensors.items()}

    def before_run(self, run_context):
        self._should_trigger = self._timer is not None and \
            self._timer.should_trigger_for_step(self._iter)
        return SessionRunArgs(self._current) if self._should_trigger else None

    def _log(self, values):
        if self._formatter:
            text = self._formatter(values)
            if text is not None:
                print(text, flush=True)
        else:
            print(", ".join("%s = %s" % (t, values[t]) for t in self._tag_order), flush=True)

    def after_run(self, run_context, run_values):
        if self._should_trigger:
            self._log(run_values.results)
            self._timer.update_last_triggered_step(self._iter)
        self._iter += 1

    def end(self, session):
        if self._at_end:
            self._log(session.run(self._current))


# ---------------------------------------------------------------- initialization

def report_uninitialized_variables(var_list=None, name="report_uninitialized_variables"):
    """The uninitialized variables of var_list (default: global and local).

    TensorFlow returns a string tensor of names; Loom has no string tensors, so
    this returns a bool tensor (one entry per variable, True = uninitialized)
    whose value, when fetched through _uninitialized_names(), gives the names.
    Use tf.train's session creators, which read it for you."""
    from . import array_ops, math_ops
    from .variables import global_variables, is_variable_initialized, local_variables
    if var_list is None:
        var_list = global_variables() + local_variables()
    var_list = list(var_list)
    if not var_list:
        out = array_ops.zeros([0], dtype="bool")
    else:
        out = math_ops.logical_not(array_ops.stack([is_variable_initialized(v) for v in var_list]),
                                   name=name)
    _REPORT_NAMES[(id(out.graph), out.name)] = [v.op.name for v in var_list]
    return out


_REPORT_NAMES = {}  # (graph id, tensor name) -> variable names of a report


def _uninitialized_names(session, report):
    if report is None:
        return []
    mask = session.run(report)
    names = _REPORT_NAMES.get((id(report.graph), report.name), [])
    return [n for n, m in zip(names, mask) if m]


class Scaffold(object):
    """The ops a MonitoredSession needs to initialize a model, with defaults."""

    def __init__(self, init_op=None, init_feed_dict=None, init_fn=None, ready_op=None,
                 ready_for_local_init_op=None, local_init_op=None, summary_op=None, saver=None,
                 copy_from_scaffold=None):
        self._init_op = init_op
        self._init_feed_dict = init_feed_dict
        self._init_fn = init_fn
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._local_init_op = local_init_op
        self._summary_op = summary_op
        self._saver = saver
        self._finalized = False

    def finalize(self):
        if self._finalized:
            return self
        from .graph_io import Saver
        from .variables import (global_variables, global_variables_initializer, group,
                                local_variables_initializer, no_op)
        g = get_default_graph()
        if self._init_op is None:
            self._init_op = global_variables_initializer()
        if self._ready_op is None:
            self._ready_op = report_uninitialized_variables()
        if self._ready_for_local_init_op is None:
            self._ready_for_local_init_op = report_uninitialized_variables(global_variables())
        if self._local_init_op is None:
            ops = list(g.get_collection(GraphKeys.LOCAL_INIT_OP)) if hasattr(
                GraphKeys, "LOCAL_INIT_OP") else []
            self._local_init_op = group(local_variables_initializer(), *ops) if ops else \
                local_variables_initializer()
            if self._local_init_op is None:
                self._local_init_op = no_op()
        if self._saver is None:
            self._saver = Saver()
        self._finalized = True
        return self

    init_op = property(lambda self: self._init_op)
    init_feed_dict = property(lambda self: self._init_feed_dict)
    init_fn = property(lambda self: self._init_fn)
    ready_op = property(lambda self: self._ready_op)
    ready_for_local_init_op = property(lambda self: self._ready_for_local_init_op)
    local_init_op = property(lambda self: self._local_init_op)
    summary_op = property(lambda self: self._summary_op)
    saver = property(lambda self: self._saver)


class SessionManager(object):
    """Makes sessions whose variables are ready: prepare_session (the chief:
    restore or initialize) and wait_for_session (the others)."""

    def __init__(self, local_init_op=None, ready_op=None, ready_for_local_init_op=None,
                 graph=None, recovery_wait_secs=0.5):
        self._local_init_op = local_init_op
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._graph = graph or get_default_graph()
        self._recovery_wait_secs = recovery_wait_secs

    def _local_init(self, sess):
        if self._ready_for_local_init_op is not None:
            missing = _uninitialized_names(sess, self._ready_for_local_init_op)
            if missing:
                return False, "Variables not initialized: %s" % ", ".join(missing)
        if self._local_init_op is not None:
            sess.run(self._local_init_op)
        return True, None

    def prepare_session(self, master, init_op=None, saver=None, checkpoint_dir=None,
                        checkpoint_filename_with_path=None, config=None, init_feed_dict=None,
                        init_fn=None):
        sess = Session(master, graph=self._graph, config=config)
        path = checkpoint_filename_with_path
        if path is None and checkpoint_dir and saver is not None:
            from .graph_io import latest_checkpoint
            path = latest_checkpoint(checkpoint_dir)
        if path and saver is not None:
            saver.restore(sess, path)
        else:
            if init_op is not None:
                sess.run(init_op, feed_dict=init_feed_dict)
            if init_fn is not None:
                init_fn(sess)
        ok, msg = self._local_init(sess)
        if not ok:
            raise RuntimeError("Init operations did not make model ready for local_init. %s" % msg)
        missing = _uninitialized_names(sess, self._ready_op)
        if missing:
            raise RuntimeError("Init operations did not make model ready: %s" % ", ".join(missing))
        return sess

    def wait_for_session(self, master, config=None, max_wait_secs=float("inf")):
        deadline = time.time() + max_wait_secs
        while True:
            sess = Session(master, graph=self._graph, config=config)
            try:
                ok, msg = self._local_init(sess)
                if ok and not _uninitialized_names(sess, self._ready_op):
                    return sess
            except (errors.UnavailableError, errors.AbortedError, errors.FailedPreconditionError):
                pass
            sess.close()
            if time.time() + self._recovery_wait_secs > deadline:
                raise errors.DeadlineExceededError(None, None, "Session was not ready after "
                                                   "waiting %d secs." % max_wait_secs)
            time.sleep(self._recovery_wait_secs)


class ChiefSessionCreator(object):
    def __init__(self, scaffold=None, master="", config=None, checkpoint_dir=None,
                 checkpoint_filename_with_path=None):
        self._scaffold = scaffold or Scaffold()
        self._master = master
        self._config = config
        self._checkpoint_dir = checkpoint_dir
        self._checkpoint_filename_with_path = checkpoint_filename_with_path

    def create_session(self):
        self._scaffold.finalize()
        sm = SessionManager(local_init_op=self._scaffold.local_init_op,
                            ready_op=self._scaffold.ready_op,
                            ready_for_local_init_op=self._scaffold.ready_for_local_init_op)
        return sm.prepare_session(self._master, init_op=self._scaffold.init_op,
                                  saver=self._scaffold.saver,
                                  checkpoint_dir=self._checkpoint_dir,
                                  checkpoint_filename_with_path=self._checkpoint_filename_with_path,
                                  config=self._config,
                                  init_feed_dict=self._scaffold.init_feed_dict,
                                  init_fn=self._scaffold.init_fn)


class WorkerSessionCreator(object):
    def __init__(self, scaffold=None, master="", config=None, max_wait_secs=30 * 60):
        self._scaffold = scaffold or Scaffold()
        self._master = master
        self._config = config
        self._max_wait_secs = max_wait_secs

    def create_session(self):
        self._scaffold.finalize()
        sm = SessionManager(local_init_op=self._scaffold.local_init_op,
                            ready_op=self._scaffold.ready_op,
                            ready_for_local_init_op=self._scaffold.ready_for_local_init_op)
        return sm.wait_for_session(self._master, config=self._config,
                                   max_wait_secs=self._max_wait_secs)


# ---------------------------------------------------------------- sessions

_RECOVERABLE = (errors.UnavailableError, errors.AbortedError)


class _MonitoredSession(object):
    def __init__(self, session_creator, hooks, stop_grace_period_secs=120, max_recoveries=10):
        self._creator = session_creator
        self._hooks = list(hooks or [])
        self._stop_grace = stop_grace_period_secs
        self._max_recoveries = max_recoveries
        self._recoveries = 0
        self._closed = False
        self._should_stop = False
        for h in self._hooks:
            h.begin()
        scaffold = getattr(session_creator, "_scaffold", None)
        if scaffold is not None:
            scaffold.finalize()
        get_default_graph().finalize()
        self._create()

    def _create(self):
        self._sess = self._creator.create_session()
        self._coord = Coordinator(clean_stop_exception_types=[])
        start_queue_runners(sess=self._sess, coord=self._coord)
        for h in self._hooks:
            h.after_create_session(self._sess, self._coord)

    @property
    def graph(self):
        return self._sess.graph

    def should_stop(self):
        return self._should_stop or self._coord.should_stop()

    def _recover(self, e):
        self._recoveries += 1
        if self._recoveries > self._max_recoveries:
            raise e
        try:
            self._close_internal()
        except Exception:  # noqa: BLE001 - the old session is broken anyway
            pass
        while True:
            try:
                self._create()
                return
            except _RECOVERABLE:
                time.sleep(0.5)

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        while True:
            try:
                return self._run(fetches, feed_dict)
            except _RECOVERABLE as e:
                self._recover(e)
            except errors.FailedPreconditionError as e:
                # A restarted ps has fresh variables until the chief restores them.
                if "uninitialized value" not in str(e):
                    raise
                self._recover(e)

    def _run(self, fetches, feed_dict):
        ctx = SessionRunContext(SessionRunArgs(fetches, feed_dict), self._sess)
        hook_fetches, feeds = {}, dict(feed_dict or {})
        for i, h in enumerate(self._hooks):
            a = h.before_run(ctx)
            if a is not None:
                hook_fetches[i] = a.fetches
                if a.feed_dict:
                    feeds.update(a.feed_dict)
        results = self._sess.run({"caller": fetches, "hooks": hook_fetches},
                                 feed_dict=feeds or None)
        for i, h in enumerate(self._hooks):
            h.after_run(ctx, SessionRunValues(results["hooks"].get(i), None, None))
        self._should_stop = self._should_stop or ctx.stop_requested
        return results["caller"]

    def run_step_fn(self, step_fn):
        class _Ctx(object):
            def __init__(ctx, sess):
                ctx.session = sess

            def run_with_hooks(ctx, *a, **k):
                return sess.run(*a, **k)

            def request_stop(ctx):
                self._should_stop = True
        sess = self
        return step_fn(_Ctx(self))

    def _close_internal(self, exc=None):
        try:
            self._coord.request_stop()
            self._coord.join(stop_grace_period_secs=self._stop_grace, ignore_live_threads=True)
        finally:
            self._sess.close()

    def close(self):
        if self._closed:
            return
        self._closed = True
        try:
            for h in self._hooks:
                h.end(self._sess)
        finally:
            self._close_internal()

    def __enter__(self):
        return self

    def __exit__(self, exception_type, exception_value, traceback):
        if exception_type in (errors.OutOfRangeError, StopIteration):
            exception_type = None
        if exception_type is None:
            self.close()
        else:
            try:
                self._close_internal()
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
        return exception_type is None


class MonitoredSession(_MonitoredSession):
    """A session that initializes or waits for the model, starts the queue
    runners, runs hooks around each run and recovers from lost tasks."""

    def __init__(self, session_creator=None, hooks=None, stop_grace_period_secs=120):
        super(MonitoredSession, self).__init__(session_creator or ChiefSessionCreator(), hooks,
                                               stop_grace_period_secs)


class SingularMonitoredSession(MonitoredSession):
    def __init__(self, hooks=None, scaffold=None, master="", config=None, checkpoint_dir=None,
                 stop_grace_period_secs=120, checkpoint_filename_with_path=None):
        super(SingularMonitoredSession, self).__init__(
            ChiefSessionCreator(scaffold=scaffold, master=master, config=config,
                                checkpoint_dir=checkpoint_dir,
                                checkpoint_filename_with_path=checkpoint_filename_with_path),
            hooks, stop_grace_period_secs)

    def raw_session(self):
        return self._sess


_USE_DEFAULT = object()


def MonitoredTrainingSession(master="", is_chief=True, checkpoint_dir=None, scaffold=None,  # noqa: N802
                             hooks=None, chief_only_hooks=None,
                             save_checkpoint_secs=_USE_DEFAULT, save_summaries_steps=_USE_DEFAULT,
                             save_summaries_secs=_USE_DEFAULT, config=None,
                             stop_grace_period_secs=120, log_step_count_steps=100,
                             max_wait_secs=7200, save_checkpoint_steps=_USE_DEFAULT,
                             summary_dir=None):
    """A MonitoredSession for (distributed) training: the chief initializes or
    restores from checkpoint_dir and saves checkpoints (every
    save_checkpoint_secs, default 600, or save_checkpoint_steps); other
    workers wait for the chief's initialization."""
    scaffold = scaffold or Scaffold()
    all_hooks = list(hooks or [])
    if is_chief:
        all_hooks.extend(chief_only_hooks or [])
        if save_checkpoint_steps is _USE_DEFAULT and save_checkpoint_secs is _USE_DEFAULT:
            save_checkpoint_steps, save_checkpoint_secs = None, 600
        elif save_checkpoint_steps is _USE_DEFAULT:
            save_checkpoint_steps = None
        elif save_checkpoint_secs is _USE_DEFAULT:
            save_checkpoint_secs = None
        if checkpoint_dir and (save_checkpoint_secs or save_checkpoint_steps):
            all_hooks.append(CheckpointSaverHook(checkpoint_dir, save_secs=save_checkpoint_secs,
                                                 save_steps=save_checkpoint_steps,
                                                 scaffold=scaffold))
        creator = ChiefSessionCreator(scaffold=scaffold, master=master, config=config,
                                      checkpoint_dir=checkpoint_dir)
    else:
        creator = WorkerSessionCreator(scaffold=scaffold, master=master, config=config,
                                       max_wait_secs=max_wait_secs)
    return MonitoredSession(session_creator=creator, hooks=all_hooks,
                            stop_grace_period_secs=stop_grace_period_secs)

