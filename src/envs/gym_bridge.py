"""Serves Gymnasium environments to rlsweep over stdin/stdout (src/envs/python-bridge.ts).

Usage: python3 gym_bridge.py <target>, where target is a Gymnasium id (made with
gymnasium.make, e.g. CartPole-v1 or my_pkg:MyEnv-v0) or <file.py>:<ClassName> (a class with
Gymnasium's API: reset(seed=...) -> (obs, info), step(a) -> (obs, reward, terminated,
truncated, info), observation_space.low/high, action_space.n; gymnasium itself not needed).

Framing, little-endian, no JSON per step. Request: u32 length, u8 op, u16 instance, body.
Response: u32 length, u8 status (0 ok, 1 error), body (an error's body is its UTF-8 message).
The first response, unasked, is the spec of instance 0 as JSON.
"""

import importlib.util
import json
import math
import os
import struct
import sys

OP_CREATE, OP_RESET, OP_STEP, OP_GET_STATE, OP_SET_STATE = 1, 2, 3, 4, 5

try:
    import numpy
except ImportError:  # Debian's python3 has no numpy; the struct path is slower but exact.
    numpy = None


def make_env(target):
    if ".py:" in target:
        file, class_name = target.rsplit(":", 1)
        spec = importlib.util.spec_from_file_location("rlsweep_user_env", os.path.abspath(file))
        if spec is None or spec.loader is None:
            raise RuntimeError("cannot load %s as a Python module" % file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if not hasattr(module, class_name):
            raise RuntimeError("%s has no class %s" % (file, class_name))
        return getattr(module, class_name)()
    try:
        import gymnasium
    except ImportError as error:
        raise RuntimeError(
            "gymnasium is not installed for %s (%s); install it with: %s -m pip install gymnasium"
            % (sys.executable, error, sys.executable)
        )
    return gymnasium.make(target)


def flat_floats(values):
    if numpy is not None:
        return [float(v) for v in numpy.asarray(values, dtype=numpy.float64).reshape(-1)]
    if hasattr(values, "tolist"):
        values = values.tolist()
    out = []
    stack = [values]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        else:
            out.append(float(item))
    return out


def finite_or_none(value):
    return value if math.isfinite(value) else None


def spec_of(env):
    obs_space = env.observation_space
    low, high = flat_floats(obs_space.low), flat_floats(obs_space.high)
    action_space = env.action_space
    if not hasattr(action_space, "n"):
        raise RuntimeError("the action space is %r; rlsweep's DQN needs a Discrete action space" % (action_space,))
    gym_spec = getattr(env, "spec", None)
    max_steps = getattr(gym_spec, "max_episode_steps", None) if gym_spec is not None else None
    threshold = getattr(gym_spec, "reward_threshold", None) if gym_spec is not None else None
    unwrapped = getattr(env, "unwrapped", env)
    return {
        "observationSize": len(low),
        "actionCount": int(action_space.n),
        "observationLow": [finite_or_none(v) for v in low],
        "observationHigh": [finite_or_none(v) for v in high],
        "maxEpisodeSteps": max_steps,
        "rewardThreshold": threshold,
        "exactState": callable(getattr(unwrapped, "get_state", None)) and callable(getattr(unwrapped, "set_state", None)),
    }


class Server:
    def __init__(self, target, output):
        self.target = target
        self.output = output
        self.envs = []
        self.sizes = []

    def create(self):
        env = make_env(self.target)
        spec = spec_of(env)
        self.envs.append(env)
        self.sizes.append(spec["observationSize"])
        return spec

    def pack_observation(self, index, observation):
        if numpy is not None:
            data = numpy.asarray(observation, dtype="<f4").reshape(-1)
            if data.size != self.sizes[index]:
                raise RuntimeError("the observation has %d values, the observation space %d" % (data.size, self.sizes[index]))
            return data.tobytes()
        values = flat_floats(observation)
        if len(values) != self.sizes[index]:
            raise RuntimeError("the observation has %d values, the observation space %d" % (len(values), self.sizes[index]))
        return struct.pack("<%df" % len(values), *values)

    def handle(self, op, index, body):
        if op == OP_CREATE:
            self.create()
            return struct.pack("<H", len(self.envs) - 1)
        env = self.envs[index]
        if op == OP_RESET:
            has_seed, seed = struct.unpack_from("<Bd", body)
            observation, _ = env.reset(seed=int(seed)) if has_seed else env.reset()
            return self.pack_observation(index, observation)
        if op == OP_STEP:
            (action,) = struct.unpack_from("<i", body)
            observation, reward, terminated, truncated, _ = env.step(action)
            flags = (1 if terminated else 0) | (2 if truncated else 0)
            return struct.pack("<dB", float(reward), flags) + self.pack_observation(index, observation)
        if op == OP_GET_STATE:
            return json.dumps(env.unwrapped.get_state()).encode("utf-8")
        if op == OP_SET_STATE:
            # Gymnasium's wrappers refuse step() before a first reset(); the state set next replaces what it drew.
            env.reset()
            env.unwrapped.set_state(json.loads(body.decode("utf-8")))
            return b""
        raise RuntimeError("unknown request %d" % op)

    def reply(self, status, body):
        self.output.write(struct.pack("<IB", len(body) + 1, status) + body)


def read_exactly(stream, size):
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def main():
    target = sys.argv[1]
    # The protocol owns the real stdout; anything the env prints goes to stderr instead.
    output = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer
    server = Server(target, output)
    try:
        spec = server.create()
    except Exception as error:  # reported to rlsweep as the first answer
        server.reply(1, ("%s: %s" % (type(error).__name__, error)).encode("utf-8"))
        return
    server.reply(0, json.dumps(spec).encode("utf-8"))
    while True:
        header = read_exactly(requests, 4)
        if header is None:
            return  # rlsweep closed the pipe: the run is over
        (length,) = struct.unpack("<I", header)
        payload = read_exactly(requests, length)
        if payload is None:
            return
        op, index = struct.unpack_from("<BH", payload)
        try:
            server.reply(0, server.handle(op, index, payload[3:]))
        except Exception as error:
            server.reply(1, ("%s: %s" % (type(error).__name__, error)).encode("utf-8"))


if __name__ == "__main__":
    main()
