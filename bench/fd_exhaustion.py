#!/usr/bin/python3
# The server out of file descriptors for 3 s (prlimit on the running process, two descriptors
# left, twelve clients queued): its CPU over those seconds, its log lines, its accept errors and
# how many of the clients it served. Usage (Debian's python3; figures in bench/RESULTS.md):
#   bench/fd_exhaustion.py build/src/vigil config
import os, resource, shutil, socket, subprocess, sys, tempfile, time, urllib.request

vigil, config_dir = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix="vigil-fd-")
config = os.path.join(work, "vigil.yaml")
with open(config, "w") as f:
    f.write("log_level: warn\n")
stderr_path = os.path.join(work, "stderr")
server = subprocess.Popen([vigil, "serve", "--config", config, "--data", os.path.join(work, "data"),
                           "--listen", "127.0.0.1:0", "--port-file", os.path.join(work, "port"),
                           "--config-dir", config_dir],
                          stdout=subprocess.DEVNULL, stderr=open(stderr_path, "wb"))
try:
    while not os.path.exists(os.path.join(work, "port")):
        if server.poll() is not None:
            sys.exit("the server did not start: " + open(stderr_path).read())
        time.sleep(0.05)
    port = int(open(os.path.join(work, "port")).read())

    def cpu_seconds():
        fields = open(f"/proc/{server.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    was = resource.prlimit(server.pid, resource.RLIMIT_NOFILE)
    held = len(os.listdir(f"/proc/{server.pid}/fd"))
    resource.prlimit(server.pid, resource.RLIMIT_NOFILE, (held + 2, was[1]))
    clients = []
    for _ in range(12):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(0.0)
        clients.append(s)
    cpu0, t0 = cpu_seconds(), time.time()
    time.sleep(3)
    cpu1, t1 = cpu_seconds(), time.time()
    served = 0
    for s in clients:
        try:
            served += s.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            pass
    alive = server.poll() is None
    resource.prlimit(server.pid, resource.RLIMIT_NOFILE, was) if alive else None
    for s in clients:
        s.close()
    errors = "server gone"
    if alive:
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
        errors = next((l.split()[1] for l in metrics.splitlines() if l.startswith("vigil_http_accept_errors_total ")), "n/a")
    log = open(stderr_path, "rb").read()
    print(f"{t1 - t0:.2f} s out of descriptors: {cpu1 - cpu0:.2f} s of CPU; {served} of 12 clients served; "
          f"accept errors {errors}; 'accept_failed' log lines {log.count(b'accept_failed')} ({len(log)} bytes of log); "
          f"server {'alive' if alive else 'ended: ' + log.decode(errors='replace').strip().splitlines()[-1]}")
finally:
    if server.poll() is None:
        server.terminate()
        server.wait()
    shutil.rmtree(work, ignore_errors=True)
