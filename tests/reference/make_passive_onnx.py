"""Builds a tiny ONNX 'passive liveness' model whose output is known in closed form.

input  x: float[1, 3, H, W]
output y: float[1, 2] = [-m, m], m = mean(x)
With softmax over y, the live class (index 1) has probability sigmoid(2 m). Used by
tests/liveness/cues_test.cc to check the hosted-model slot end to end (crop, normalisation,
layout, softmax, live index). Run with Debian's python3-onnx: /usr/bin/python3 make_passive_onnx.py OUT [H W]
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    out = sys.argv[1]
    h = int(sys.argv[2]) if len(sys.argv) > 2 else 80
    w = int(sys.argv[3]) if len(sys.argv) > 3 else 80
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, h, w])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])
    # Per-channel means (GlobalAveragePool), flattened, then a 3x2 matrix that averages the
    # channels with signs: y = [-m, m].
    weights = numpy_helper.from_array(np.array([[-1, 1]] * 3, dtype=np.float32) / 3.0, name="weights")
    nodes = [
        helper.make_node("GlobalAveragePool", ["x"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "weights"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "passive_closed_form", [x], [y], initializer=[weights])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 6
    onnx.checker.check_model(model)
    onnx.save(model, out)


if __name__ == "__main__":
    main()
