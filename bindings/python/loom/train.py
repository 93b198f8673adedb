"""Optimizers built from the Apply* ops with slot variables, and the global
step (tf.train)."""
from . import array_ops
from . import dtypes as _dtypes
from . import gradients_impl as _gradients
from . import math_ops
from .framework import (GraphKeys, Tensor, attr_bool, attr_type, convert_to_tensor,
                        get_default_graph, make_op, name_scope)
from .graph_io import (Saver, latest_checkpoint, list_variables, load_variable,  # noqa: F401
                       write_graph)
from .variables import Variable, assign_add, get_variable, group, trainable_variables
from .server_lib import ClusterSpec, Server, replica_device_setter  # noqa: F401


# ---------------------------------------------------------------- global step


def get_global_step(graph=None):
    g = graph or get_default_graph()
    coll = g.get_collection(GraphKeys.GLOBAL_STEP)
    if len(coll) == 1:
        return coll[0]
    if len(coll) > 1:
        raise TypeError("Multiple tensors in global_step collection.")
    op = g._op_by_name_or_none("global_step")
    if op is not None:
        return op.outputs[0]
    return None


def create_global_step(graph=None):
    g = graph or get_default_graph()
    if get_global_step(g) is not None:
        raise ValueError("\"global_step\" already exists.")
    with g.as_default(), g.name_scope(None):
        return get_variable("global_step", shape=[], dtype=_dtypes.int64,
                            initializer=array_ops.zeros([], dtype=_dtypes.int64),
                            trainable=False,
                            collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph=None):
    g = graph or get_default_graph()
    gs = get_global_step(g)
    if gs is None:
        gs = create_global_step(g)
    return gs


def global_step(sess, global_step_tensor):
    return int(sess.run(global_step_tensor))


# ---------------------------------------------------------------- optimizers


def _ref(v):
    return v._variable


class Optimizer(object):
    """Base class of the optimizers (tf.train.Optimizer)."""

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking, name):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots = {}
        self._non_slot = {}

    def get_name(self):
        return self._name

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None):
        grads_and_vars = self.compute_gradients(loss, var_list=var_list, gate_gradients=gate_gradients,
                                                grad_loss=grad_loss)
        vars_with_grad = [v for g, v in grads_and_vars if g is not None]
        if not vars_with_grad:
            raise ValueError(
                "No gradients provided for any variable, check your graph for ops that do not "
                "support gradients, between variables %s and loss %s." % (
                    [str(v) for _, v in grads_and_vars], loss))
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None):
        if var_list is None:
            var_list = trainable_variables()
        else:
            var_list = list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        loss = convert_to_tensor(loss)
        grads = _gradients.gradients(loss, var_list,
                                     grad_ys=None if grad_loss is None else [grad_loss])
        if gate_gradients in (self.GATE_OP, self.GATE_GRAPH):
            grads = _gate(grads)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        grads_and_vars = tuple(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        for g, v in grads_and_vars:
            if not isinstance(v, Variable):
                raise TypeError("Variable must be a tf.Variable: %r" % (v,))
        var_list = [v for g, v in grads_and_vars if g is not None]
        if not var_list:
            raise ValueError("No gradients provided for any variable: %s." % (
                [str(v) for _, v in grads_and_vars],))
        graph = var_list[0].graph
        with graph.as_default():
            self._create_slots(var_list)
            update_ops = []
            with name_scope(name, self._name) as scope:
                self._prepare()
                for grad, var in grads_and_vars:
                    if grad is None:
                        continue
                    grad = convert_to_tensor(grad)
                    with name_scope("update_" + var.op.name):
                        update_ops.append(self._apply_dense(grad, var))
                if global_step is None:
                    apply_updates = self._finish(update_ops, scope)
                else:
                    with graph.control_dependencies([self._finish(update_ops, "update")]):
                        apply_updates = assign_add(global_step, 1, name=scope).op
            train_op = graph.get_collection_ref(GraphKeys.TRAIN_OP)
            if apply_updates not in train_op:
                train_op.append(apply_updates)
        return apply_updates

    # ---- what subclasses provide

    def _create_slots(self, var_list):
        pass

    def _prepare(self):
        pass

    def _apply_dense(self, grad, var):
        raise NotImplementedError

    def _finish(self, update_ops, name_scope_):
        return group(*update_ops, name=name_scope_)

    # ---- slots

    def _zeros_slot(self, var, slot_name, op_name):
        return self._slot(var, slot_name, op_name,
                          lambda: array_ops.zeros(var.shape.as_list(), dtype=var.dtype))

    def _slot(self, var, slot_name, op_name, initial_value):
        named = self._slots.setdefault(slot_name, {})
        if var not in named:
            g = var.graph
            with g.control_dependencies(None), g.device(var.device or None):
                with g.name_scope(None):
                    name = g.unique_name(var.op.name + "/" + op_name, mark_as_used=False)
                    named[var] = Variable(initial_value, trainable=False, name=name,
                                          _absolute_name=True)
        return named[var]

    def get_slot(self, var, name):
        return self._slots.get(name, {}).get(var)

    def get_slot_names(self):
        return sorted(self._slots)

    def _non_slot_variable(self, name, initial_value, colocate_with):
        g = colocate_with.graph
        key = (name, g)
        v = self._non_slot.get(key)
        if v is None:
            with g.control_dependencies(None), g.device(colocate_with.device or None):
                with g.name_scope(None):
                    v = Variable(initial_value, trainable=False, name=name)
            self._non_slot[key] = v
        return v

    def variables(self):
        out = [v for slots in self._slots.values() for v in slots.values()]
        out.extend(self._non_slot.values())
        return out

    def _lr(self, var, tensor):
        return math_ops.cast(tensor, var.dtype) if tensor.dtype != var.dtype else tensor

    def _hyper(self, value, name):
        if isinstance(value, Tensor) or hasattr(value, "_as_tensor"):
            return convert_to_tensor(value)
        return convert_to_tensor(value, dtype=_dtypes.float32, name=name)


def _apply(op_type, inputs, var, use_locking, extra=()):
    return make_op(op_type, inputs,
                   [attr_type("T", var.dtype), attr_bool("use_locking", use_locking)] + list(extra),
                   name=op_type)


class GradientDescentOptimizer(Optimizer):
    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super(GradientDescentOptimizer, self).__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _prepare(self):
        self._lr_t = self._hyper(self._learning_rate, "learning_rate")

    def _apply_dense(self, grad, var):
        return _apply("ApplyGradientDescent", [_ref(var), self._lr(var, self._lr_t), grad], var,
                      self._use_locking)


class MomentumOptimizer(Optimizer):
    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False):
        super(MomentumOptimizer, self).__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        self._lr_t = self._hyper(self._learning_rate, "learning_rate")
        self._momentum_t = self._hyper(self._momentum, "momentum")

    def _apply_dense(self, grad, var):
        accum = self.get_slot(var, "momentum")
        return _apply("ApplyMomentum",
                      [_ref(var), _ref(accum), self._lr(var, self._lr_t), grad,
                       self._lr(var, self._momentum_t)], var, self._use_locking,
                      [attr_bool("use_nesterov", self._use_nesterov)])


class AdamOptimizer(Optimizer):
    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking=False, name="Adam"):
        super(AdamOptimizer, self).__init__(use_locking, name)
        self._lr_v, self._beta1, self._beta2, self._epsilon = learning_rate, beta1, beta2, epsilon

    def _create_slots(self, var_list):
        first_var = min(var_list, key=lambda x: x.name)
        self._beta1_power = self._non_slot_variable("beta1_power",
                                                    float(self._beta1), first_var)
        self._beta2_power = self._non_slot_variable("beta2_power",
                                                    float(self._beta2), first_var)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _prepare(self):
        self._lr_t = self._hyper(self._lr_v, "learning_rate")
        self._beta1_t = self._hyper(self._beta1, "beta1")
        self._beta2_t = self._hyper(self._beta2, "beta2")
        self._epsilon_t = self._hyper(self._epsilon, "epsilon")

    def _apply_dense(self, grad, var):
        m = self.get_slot(var, "m")
        v = self.get_slot(var, "v")
        c = lambda t: self._lr(var, t)  # noqa: E731
        return _apply("ApplyAdam",
                      [_ref(var), _ref(m), _ref(v), c(self._beta1_power._snapshot),
                       c(self._beta2_power._snapshot), c(self._lr_t), c(self._beta1_t),
                       c(self._beta2_t), c(self._epsilon_t), grad], var, self._use_locking,
                      [attr_bool("use_nesterov", False)])

    def _finish(self, update_ops, name_scope_):
        g = self._beta1_power.graph
        with g.control_dependencies(update_ops):
            with g.device(self._beta1_power.device or None):
                u1 = self._beta1_power.assign(self._beta1_power * self._beta1_t,
                                              use_locking=self._use_locking)
                u2 = self._beta2_power.assign(self._beta2_power * self._beta2_t,
                                              use_locking=self._use_locking)
        return group(*(list(update_ops) + [u1, u2]), name=name_scope_)


class AdagradOptimizer(Optimizer):
    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError("initial_accumulator_value must be positive: %s"
                             % initial_accumulator_value)
        super(AdagradOptimizer, self).__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial = initial_accumulator_value

    def _create_slots(self, var_list):
        for v in var_list:
            def init(v=v):
                return array_ops.fill(v.shape.as_list(),
                                      array_ops.constant(self._initial, dtype=v.dtype))
            self._slot(v, "accumulator", self._name, init)

    def _prepare(self):
        self._lr_t = self._hyper(self._learning_rate, "learning_rate")

    def _apply_dense(self, grad, var):
        acc = self.get_slot(var, "accumulator")
        return _apply("ApplyAdagrad", [_ref(var), _ref(acc), self._lr(var, self._lr_t), grad], var,
                      self._use_locking, [attr_bool("update_slots", True)])


class RMSPropOptimizer(Optimizer):
    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking=False,
                 centered=False, name="RMSProp"):
        if centered:
            raise NotImplementedError("centered RMSProp (ApplyCenteredRMSProp) is not in Loom's "
                                      "op set")
        super(RMSPropOptimizer, self).__init__(use_locking, name)
        self._learning_rate, self._decay = learning_rate, decay
        self._momentum, self._epsilon = momentum, epsilon

    def _create_slots(self, var_list):
        for v in var_list:
            self._slot(v, "rms", self._name,
                       lambda v=v: array_ops.ones(v.shape.as_list(), dtype=v.dtype))
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        self._lr_t = self._hyper(self._learning_rate, "learning_rate")
        self._decay_t = self._hyper(self._decay, "decay")
        self._momentum_t = self._hyper(self._momentum, "momentum")
        self._epsilon_t = self._hyper(self._epsilon, "epsilon")

    def _apply_dense(self, grad, var):
        rms = self.get_slot(var, "rms")
        mom = self.get_slot(var, "momentum")
        c = lambda t: self._lr(var, t)  # noqa: E731
        return _apply("ApplyRMSProp",
                      [_ref(var), _ref(rms), _ref(mom), c(self._lr_t), c(self._decay_t),
                       c(self._momentum_t), c(self._epsilon_t), grad], var, self._use_locking)


# ---------------------------------------------------------------- schedules


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    with name_scope(name, "ExponentialDecay", [learning_rate, global_step]):
        lr = convert_to_tensor(learning_rate, name="learning_rate")
        dt = lr.dtype
        step = math_ops.cast(global_step, dt)
        p = step / math_ops.cast(decay_steps, dt)
        if staircase:
            p = math_ops.floor(p)
        return math_ops.multiply(lr, math_ops.pow(math_ops.cast(decay_rate, dt), p))


def _gate(grads):
    """Makes every gradient wait for all of them. The updates apply in place,
    so without this an update could run while the backward pass still reads
    the variable (e.g. MatMul's input gradient reading the weights)."""
    present = [g for g in grads if g is not None]
    if len(present) < 2:
        return grads
    g0 = present[0].graph
    with g0.control_dependencies([g.op for g in present]):
        return [None if g is None else array_ops.identity(g) for g in grads]


# Queues, input pipelines and (distributed) training sessions; at the end, as
# those modules build on the optimizers above.
from .server_lib import GreedyLoadBalancingStrategy, byte_size_load_fn  # noqa: E402,F401
from .queue_runner import (Coordinator, LooperThread, QueueRunner,  # noqa: E402,F401
                           add_queue_runner, start_queue_runners)
from .input import (batch, input_producer, limit_epochs, range_input_producer,  # noqa: E402,F401
                    shuffle_batch, slice_input_producer)
from .monitored_session import (CheckpointSaverHook, ChiefSessionCreator,  # noqa: E402,F401
                                LoggingTensorHook, MonitoredSession, MonitoredTrainingSession,
                                Scaffold, SessionManager, SessionRunArgs, SessionRunContext,
                                SessionRunHook, SessionRunValues, SingularMonitoredSession,
                                StopAtStepHook, WorkerSessionCreator)
from .sync_replicas_optimizer import SyncReplicasOptimizer  # noqa: E402,F401
