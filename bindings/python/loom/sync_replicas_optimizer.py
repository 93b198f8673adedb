"""Synchronous replicas with backup workers (tf.train.SyncReplicasOptimizer),
as in TensorFlow 1.x, built from ordinary ops.

Every worker applies its gradients to one ConditionalAccumulator per variable
(on the variable's ps task), tagged with its local step, then waits for a
token from the sync token queue. The chief's sync thread takes the average of
replicas_to_aggregate gradients from every accumulator, applies it once
(advancing the global step by one) and puts total_num_replicas tokens
carrying the new global step in the queue. With total_num_replicas >
replicas_to_aggregate the extra workers are backups: whichever gradients
arrive first are used; a late one carries an older local step and the
accumulator drops it as stale.

One difference from TensorFlow: the chief's sync thread waits for the
gradients by polling the accumulators' counts (a cheap step) and only then
runs the sync op, which therefore never blocks. A sync op blocked in
take_grad could not be stopped without losing gradients (aborting it after
some accumulators have been taken would leave their global steps apart), and
a Loom session cannot close while one of its steps runs. At the end the
chief closes the token queue, so workers waiting for a token stop with
OutOfRangeError (a clean end for MonitoredSession) instead of hanging.
"""
import time

from . import array_ops
from . import dtypes as _dtypes
from .data_flow_ops import ConditionalAccumulator, FIFOQueue
from .framework import GraphKeys, control_dependencies, device, name_scope
from .monitored_session import SessionRunHook, _uninitialized_names, report_uninitialized_variables
from .queue_runner import QueueRunner
from .train import Optimizer
from .variables import Variable, assign, global_variables, group, no_op

__all__ = ["SyncReplicasOptimizer"]


class _ChiefSyncRunner(QueueRunner):
    """The chief's sync thread: waits until every accumulator holds
    replicas_to_aggregate gradients, then runs the sync op."""

    def __init__(self, queue, sync_op, counts, replicas_to_aggregate):
        super(_ChiefSyncRunner, self).__init__(queue, [sync_op])
        self._counts = counts
        self._n = replicas_to_aggregate
        self.num_updates = 0

    def _run(self, sess, enqueue_op, coord=None):
        wait = 0.0005
        try:
            while not (coord and coord.should_stop()):
                counts = sess.run(self._counts)
                if min(counts) < self._n:
                    time.sleep(wait)
                    wait = min(wait * 2, 0.005)
                    continue
                wait = 0.0005
                sess.run(enqueue_op)
                self.num_updates += 1
        except self._queue_closed_exception_types:
            pass  # the token queue was closed: training is over
        except Exception as e:  # noqa: BLE001 - handed to the coordinator
            if coord:
                coord.request_stop(e)
            else:
                raise
        finally:
            with self._lock:
                self._runs_per_session[sess] -= 1


class SyncReplicasOptimizer(Optimizer):
    """Wraps an optimizer so that replicas_to_aggregate of total_num_replicas
    workers' gradients are averaged and applied once per global step."""

    def __init__(self, opt, replicas_to_aggregate, total_num_replicas=None,
                 variable_averages=None, variables_to_average=None, use_locking=False,
                 name="sync_replicas"):
        if total_num_replicas is None:
            total_num_replicas = replicas_to_aggregate
        if replicas_to_aggregate < 1 or total_num_replicas < 1:
            raise ValueError("replicas_to_aggregate and total_num_replicas must be >= 1")
        if variable_averages is not None:
            raise NotImplementedError("SyncReplicasOptimizer: variable_averages is not supported")
        super(SyncReplicasOptimizer, self).__init__(use_locking, name)
        self._opt = opt
        self._replicas_to_aggregate = replicas_to_aggregate
        self._total_num_replicas = total_num_replicas
        self._tokens_per_step = max(total_num_replicas, replicas_to_aggregate)
        self._gradients_applied = False
        self._global_step = None
        self._sync_token_queue = None
        self._chief_queue_runner = None
        self._accumulator_list = []

    def compute_gradients(self, *args, **kwargs):
        return self._opt.compute_gradients(*args, **kwargs)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        grads_and_vars = list(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("Must supply at least one variable")
        if global_step is None:
            raise ValueError("Global step is required to check staleness")
        self._global_step = global_step
        gs_device = global_step.device
        gs_dtype = global_step.dtype.base_dtype

        # The local step lives on this worker (where an op with no device
        # request lands), not on a ps the device function would choose.
        local_anchor = no_op(name="local_anchor")
        with device(local_anchor.device or None), name_scope(None):
            self._local_step = Variable(array_ops.zeros([], dtype=gs_dtype), trainable=False,
                                        collections=[GraphKeys.LOCAL_VARIABLES],
                                        name="sync_rep_local_step")
        self.local_step_init_op = assign(self._local_step, global_step)
        chief_init_ops = [self.local_step_init_op]
        self.ready_for_local_init_op = report_uninitialized_variables(global_variables())

        train_ops, aggregated, var_list, counts = [], [], [], []
        with name_scope(None), name_scope(self._name):
            for grad, var in grads_and_vars:
                var_list.append(var)
                with device(var.device or None):
                    if grad is None:
                        aggregated.append(None)
                        continue
                    accum = ConditionalAccumulator(grad.dtype.base_dtype, shape=var.get_shape(),
                                                   shared_name=var.op.name + "/grad_accum")
                    train_ops.append(accum.apply_grad(grad, local_step=self._local_step))
                    aggregated.append(accum.take_grad(self._replicas_to_aggregate))
                    counts.append(accum.num_accumulated())
                    self._accumulator_list.append((accum, var.device))

            with device(gs_device or None), name_scope(None):
                update_op = self._opt.apply_gradients(list(zip(aggregated, var_list)), global_step)

            with device(gs_device or None), name_scope(None):
                self._sync_token_queue = FIFOQueue(-1, gs_dtype, shapes=(), name="sync_token_q",
                                                   shared_name="sync_token_q")
                dummy_queue = FIFOQueue(1, _dtypes.int32, shapes=(), name="dummy_queue",
                                        shared_name="dummy_queue")
                with control_dependencies(train_ops):
                    token = self._sync_token_queue.dequeue()
                train_op = assign(self._local_step, token)
                with control_dependencies([update_op]):
                    tokens = array_ops.fill([self._tokens_per_step],
                                            array_ops.identity(global_step))
                    sync_op = self._sync_token_queue.enqueue_many((tokens,))
                self._chief_queue_runner = _ChiefSyncRunner(dummy_queue, sync_op, counts,
                                                            self._replicas_to_aggregate)
                self._close_token_queue = self._sync_token_queue.close(
                    cancel_pending_enqueues=True)

            for accum, dev in self._accumulator_list:
                with device(dev or None):
                    chief_init_ops.append(accum.set_global_step(global_step, name="SetGlobalStep"))
            self.chief_init_op = group(*chief_init_ops)
        self._gradients_applied = True
        return train_op

    def get_chief_queue_runner(self):
        if not self._gradients_applied:
            raise ValueError("Should be called after apply_gradients().")
        return self._chief_queue_runner

    def get_slot(self, *args, **kwargs):
        return self._opt.get_slot(*args, **kwargs)

    def get_slot_names(self, *args, **kwargs):
        return self._opt.get_slot_names(*args, **kwargs)

    def get_init_tokens_op(self, num_tokens=-1):
        if not self._gradients_applied:
            raise ValueError("get_init_tokens_op() should be called after apply_gradients().")
        tokens_needed = self._replicas_to_aggregate - self._total_num_replicas
        if num_tokens == -1:
            num_tokens = self._replicas_to_aggregate
        elif num_tokens < tokens_needed:
            raise ValueError("Too few tokens to finish the first step: %d (given) vs %d (needed)"
                             % (num_tokens, tokens_needed))
        if num_tokens > 0:
            with device(self._global_step.device or None), name_scope(None):
                tokens = array_ops.fill([num_tokens], array_ops.identity(self._global_step))
                return self._sync_token_queue.enqueue_many((tokens,))
        return no_op(name="no_init_tokens")

    def make_session_run_hook(self, is_chief, num_tokens=-1):
        return _SyncReplicasOptimizerHook(self, is_chief, num_tokens)


class _SyncReplicasOptimizerHook(SessionRunHook):
    def __init__(self, sync_optimizer, is_chief, num_tokens):
        self._sync_optimizer = sync_optimizer
        self._is_chief = is_chief
        self._num_tokens = num_tokens

    def begin(self):
        opt = self._sync_optimizer
        if not opt._gradients_applied:
            raise ValueError("SyncReplicasOptimizer.apply_gradient should be called before "
                             "using the hook.")
        self._ready_for_local_init_op = opt.ready_for_local_init_op
        if self._is_chief:
            self._local_init_op = opt.chief_init_op
            self._q_runner = opt.get_chief_queue_runner()
            self._init_tokens_op = opt.get_init_tokens_op(self._num_tokens)
            self._close_op = opt._close_token_queue
        else:
            self._local_init_op = opt.local_step_init_op
            self._q_runner = None
            self._init_tokens_op = None
            self._close_op = None

    def after_create_session(self, session, coord):
        missing = _uninitialized_names(session, self._ready_for_local_init_op)
        if missing:
            raise RuntimeError("Init operations did not make model ready for SyncReplicasOptimizer "
                               "local_init. Uninitialized variables: %s" % ", ".join(missing))
        session.run(self._local_init_op)
        if self._init_tokens_op is not None:
            session.run(self._init_tokens_op)
        if self._q_runner is not None:
            self._q_runner.create_threads(session, coord=coord, daemon=True, start=True)

    def end(self, session):
        if self._close_op is not None:
            session.run(self._close_op)
