# shellcheck shell=bash
# Shared by the benchmark scripts (sourced, not run).

# A free TCP port on 127.0.0.1.
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Issue 5's vigil configuration: the shipped config/ (SRC) copied to DEST with the hosted model
# scoring every request (a client's fraud_model would otherwise win: config/analyzers.yaml,
# fraud_model.client_signal). Fails if the switch no longer applies, rather than measuring
# another configuration without saying so.
hosted_model_config() {  # SRC DEST
  cp -a "$1" "$2"
  sed -i 's/^\(  client_signal:\) client/\1 hosted/' "$2/analyzers.yaml"
  grep -q '^  client_signal: hosted' "$2/analyzers.yaml" ||
    { echo "bench: $2/analyzers.yaml has no fraud_model.client_signal to switch to hosted" >&2; return 1; }
}

# Runs a command (stdout to OUT) and prints the CPU seconds (user + system) it used.
cpu_of() {  # OUT COMMAND [ARGS...]
  /usr/bin/python3 -c 'import resource, subprocess, sys
with open(sys.argv[1], "w") as out: subprocess.run(sys.argv[2:], stdout=out, check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(r.ru_utime + r.ru_stime)' "$@"
}
