#!/usr/bin/python3
"""Writes simulated legitimate shop sessions as CSV (session_id,time_ms,action) for
`vigil trajectory fit`. Deterministic for a given --seed.

  /usr/bin/python3 scripts/simulate_sessions.py --sessions 5000 > /tmp/sessions.csv
  vigil trajectory fit --input /tmp/sessions.csv --version trajectory-demo-1 \
      --out config/models/trajectory.json
"""
import argparse
import random

# Legitimate next actions and their weights. Registration only opens a session; checkout leads to
# payment; nobody registers in the middle of a checkout.
NEXT = {
    "registration": [("browse", 5), ("account_settings", 1), ("logout", 1)],
    "login": [("browse", 6), ("search", 4), ("account_settings", 1), ("view_item", 2)],
    "browse": [("browse", 3), ("search", 3), ("view_item", 5), ("logout", 1)],
    "search": [("search", 2), ("view_item", 6), ("browse", 2)],
    "view_item": [("view_item", 3), ("add_to_cart", 3), ("browse", 2), ("search", 2), ("logout", 1)],
    "add_to_cart": [("checkout", 4), ("browse", 2), ("view_item", 2)],
    "checkout": [("payment", 8), ("add_card", 2), ("view_item", 1)],
    "add_card": [("payment", 5), ("checkout", 1)],
    "payment": [("browse", 2), ("logout", 4), ("view_item", 1)],
    "account_settings": [("change_email", 1), ("browse", 3), ("logout", 1)],
    "change_email": [("account_settings", 1), ("browse", 1), ("logout", 1)],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    print("session_id,time_ms,action")
    t0 = 1_790_000_000_000
    for s in range(a.sessions):
        t = t0 + rng.randrange(0, 86_400_000)
        action = "registration" if rng.random() < 0.1 else "login"
        for _ in range(rng.randint(1, 25)):
            print(f"s{s},{t},{action}")
            if action == "logout":
                break
            names, weights = zip(*NEXT[action])
            action = rng.choices(names, weights)[0]
            t += int(rng.lognormvariate(9.6, 0.8))  # about 15 s, widely spread, as people are


if __name__ == "__main__":
    main()
