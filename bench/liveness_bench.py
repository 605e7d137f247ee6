"""The quality gate's per-frame steps written with Debian's python3-opencv and NumPy, for the
side-by-side figure in bench/RESULTS.md: decode one 640x480 JPEG, BlazeFace through cv2.dnn with
the anchors decoded in NumPy, the frame in grey once, the quality measures and the cues (perceptual
hash, moire), as src/quality and src/liveness do them. Prints ms per frame (median of N runs, and
the process's CPU time per frame, which a busy machine inflates less) and the steps' medians.
One core.

Run: /usr/bin/python3 bench/liveness_bench.py [N]
"""
import os
import sys
import time

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "..", "third_party", "npm", "blazeface", "face_detection_front_128x128_barracuda.onnx")
ASTRONAUT = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"


def anchors():
    out = []
    for cells, count in ((16, 2), (8, 6)):
        for y in range(cells):
            for x in range(cells):
                out += [((x + 0.5) / cells, (y + 0.5) / cells)] * count
    return np.array(out, dtype=np.float32)


ANCHORS = anchors()


def detect(net, names, img):
    s = 128.0 / max(img.shape[1], img.shape[0])
    nw, nh = round(img.shape[1] * s), round(img.shape[0] * s)
    ox, oy = (128 - nw) // 2, (128 - nh) // 2
    canvas = np.zeros((128, 128, 3), np.uint8)
    canvas[oy:oy + nh, ox:ox + nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    x = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.float32) / 127.5 - 1.0
    net.setInput(x[None])
    outs = net.forward(names)
    by = {o.size: o.reshape(-1) for o in outs}
    scores = np.concatenate([by[512], by[384]])
    boxes = np.concatenate([by[512 * 16].reshape(-1, 16), by[384 * 16].reshape(-1, 16)])
    prob = 1 / (1 + np.exp(-np.clip(scores, -80, 80)))
    keep = prob >= 0.6
    b, a, p = boxes[keep], ANCHORS[keep], prob[keep]
    cx, cy = a[:, 0] + b[:, 0] / 128, a[:, 1] + b[:, 1] / 128
    w, h = b[:, 2] / 128, b[:, 3] / 128
    x0, y0 = ((cx - w / 2) * 128 - ox) / s, ((cy - h / 2) * 128 - oy) / s
    x1, y1 = ((cx + w / 2) * 128 - ox) / s, ((cy + h / 2) * 128 - oy) / s
    rects = [[float(a0), float(b0), float(a1 - a0), float(b1 - b0)] for a0, b0, a1, b1 in zip(x0, y0, x1, y1)]
    idx = cv2.dnn.NMSBoxes(rects, p.tolist(), 0.6, 0.3)
    return [rects[i] for i in np.array(idx).reshape(-1)]


def quality(gray, faces):
    H, W = gray.shape
    roi = (W // 4, H // 4, W // 2, H // 2)
    back = 0.0
    if faces:
        x, y, w, h = [int(v) for v in max(faces, key=lambda r: r[2] * r[3])]
        x, y = max(0, x), max(0, y)
        w, h = min(w, W - x), min(h, H - y)
        roi = (x, y, w, h)
        ox0, oy0 = max(0, x - w), max(0, y - h)
        ox1, oy1 = min(W, x + 2 * w), min(H, y + 2 * h)
        outer = gray[oy0:oy1, ox0:ox1].astype(np.float64)
        face = gray[y:y + h, x:x + w].astype(np.float64)
        ring = (outer.sum() - face.sum()) / max(1, outer.size - face.size)
        back = max(0.0, (ring - face.mean()) / 255)
    x, y, w, h = roi
    crop = gray[y:y + h, x:x + w]
    bright = crop.mean() / 255
    small = cv2.resize(crop, None, fx=128 / w, fy=128 / w, interpolation=cv2.INTER_AREA)
    lap = cv2.Laplacian(small, cv2.CV_32F, ksize=1)
    blur = 100 / (100 + lap.var())
    return bright, blur, back, roi


def phash(gray):
    g = cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    d = cv2.dct(g)[:8, :8].reshape(-1)
    return int(sum(1 << i for i in range(1, 64) if d[i] > np.median(d[1:])))


def moire(gray, roi):
    x, y, w, h = roi
    f = cv2.resize(gray[y:y + h, x:x + w], (128, 128), interpolation=cv2.INTER_AREA).astype(np.float32)
    f -= f.mean()
    f *= cv2.createHanningWindow((128, 128), cv2.CV_32F)
    mag = np.abs(np.fft.fft2(f))
    v, u = np.meshgrid(np.arange(128), np.fft.fftfreq(128, 1 / 128), indexing="ij")
    r = np.rint(np.hypot(u, v)).astype(int)
    sel = (v <= 64) & (np.abs(u) > 2) & (v > 2) & (r >= 10) & (r <= 60)
    best = 1.0
    rr, mm = r[sel], mag[sel]
    for radius in np.unique(rr):
        ring = mm[rr == radius]
        med = np.median(ring)
        if med > 1e-6:
            best = max(best, ring.max() / med)
    return np.log10(best)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    cv2.setNumThreads(1)
    a = cv2.imread(ASTRONAUT, cv2.IMREAD_COLOR)
    p = cv2.resize(a[13:223, 83:363], (640, 480), interpolation=cv2.INTER_CUBIC)
    ok, jpeg = cv2.imencode(".jpg", p, [cv2.IMWRITE_JPEG_QUALITY, 90])
    net = cv2.dnn.readNetFromONNX(MODEL)
    names = net.getUnconnectedOutLayersNames()
    times = []
    cpu0 = time.process_time()
    steps = {k: [] for k in ("decode", "detect", "grey", "quality", "phash", "moire")}
    for _ in range(n):
        t0 = time.perf_counter()
        img = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
        t1 = time.perf_counter()
        faces = detect(net, names, img)
        t2 = time.perf_counter()
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)  # once, as the C++ analyzer does
        t3 = time.perf_counter()
        _, _, _, roi = quality(gray, faces)
        t4 = time.perf_counter()
        phash(gray)
        t5 = time.perf_counter()
        moire(gray, roi)
        t6 = time.perf_counter()
        times.append((t6 - t0) * 1000)
        for k, a, b in (("decode", t0, t1), ("detect", t1, t2), ("grey", t2, t3), ("quality", t3, t4),
                        ("phash", t4, t5), ("moire", t5, t6)):
            steps[k].append((b - a) * 1000)
    cpu = (time.process_time() - cpu0) * 1000 / n
    times.sort()
    print(f"python3-opencv gate: median {times[len(times) // 2]:.2f} ms per frame, p90 {times[int(len(times) * 0.9)]:.2f} ms, "
          f"CPU {cpu:.2f} ms per frame (mean) ({n} frames, {len(faces)} face)")
    print("  steps (median ms): " + ", ".join(f"{k} {sorted(v)[len(v) // 2]:.3f}" for k, v in steps.items()))


if __name__ == "__main__":
    main()
