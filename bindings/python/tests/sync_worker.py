"""One worker client of test_sync_replicas.py: trains y = 3x - 1 with
SyncReplicasOptimizer across the cluster and prints one line per step
("step <local_step> <global_step>") and, at the end, "done <global_step>
<sync updates>" (chief) or "done <global_step>" (others).

usage: sync_worker.py CLUSTER_JSON TASK_INDEX REPLICAS_TO_AGGREGATE LAST_STEP [CKPT_DIR]

REPLICAS_TO_AGGREGATE 0 trains asynchronously (plain GradientDescent). Each
step pauses 30 ms, so that a test can act mid-training.
"""
import json
import sys
import time

import numpy as np

import loom as tf


def main():
    spec = json.loads(sys.argv[1])
    task = int(sys.argv[2])
    to_aggregate = int(sys.argv[3])
    last_step = int(sys.argv[4])
    ckpt_dir = sys.argv[5] if len(sys.argv) > 5 else None
    num_workers = len(spec["worker"])
    is_chief = task == 0
    cluster = tf.train.ClusterSpec(spec)
    rng = np.random.RandomState(task)
    gs = -1
    with tf.device(tf.train.replica_device_setter(
            worker_device="/job:worker/task:%d" % task, cluster=cluster)):
        x = tf.placeholder(tf.float32, [None, 1])
        y = tf.placeholder(tf.float32, [None, 1])
        w = tf.Variable(tf.zeros([1, 1]), name="w")
        b = tf.Variable(tf.zeros([1]), name="b")
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
        global_step = tf.train.get_or_create_global_step()
        opt = tf.train.GradientDescentOptimizer(0.1)
        if to_aggregate:
            opt = tf.train.SyncReplicasOptimizer(opt, replicas_to_aggregate=to_aggregate,
                                                 total_num_replicas=num_workers)
        train_op = opt.minimize(loss, global_step=global_step)
    hooks = [tf.train.StopAtStepHook(last_step=last_step)]
    if to_aggregate:
        hooks.append(opt.make_session_run_hook(is_chief))
    local_step = opt._local_step if to_aggregate else global_step
    target = "zmq://" + spec["worker"][task]
    with tf.train.MonitoredTrainingSession(master=target, is_chief=is_chief,
                                           checkpoint_dir=ckpt_dir, hooks=hooks,
                                           save_checkpoint_steps=5 if ckpt_dir else None,
                                           stop_grace_period_secs=5) as sess:
        while not sess.should_stop():
            xv = rng.uniform(-1, 1, (16, 1)).astype(np.float32)
            time.sleep(0.03)  # leaves a test time to act mid-training
            _, local = sess.run([train_op, local_step], {x: xv, y: 3 * xv - 1})
            gs = int(sess.run(global_step))
            print("step %d %d" % (int(local), gs), flush=True)
        if is_chief:
            gs = int(sess.run(global_step))
            wv, bv = sess.run([w, b])
    if is_chief:
        print("done %d %d %.4f %.4f" % (gs, opt.get_chief_queue_runner().num_updates
                                        if to_aggregate else gs,
                                        float(wv.ravel()[0]), float(bv.ravel()[0])), flush=True)
    else:
        print("done %d" % gs, flush=True)


if __name__ == "__main__":
    main()
