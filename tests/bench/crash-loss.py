# How many acknowledged, journaled writes a MongoDB-wire server loses when
# it is killed with SIGKILL: writers insert with w: "majority", j: true for
# SECONDS, the server is killed and started again on the same data, and
# every acked insert is looked up. Needs `pip install pymongo` and
# `secantusd-rs` (the server measured) on PATH; see docs/reliability.md.
#
#   python3 tests/bench/crash-loss.py PORT SECONDS WRITERS
import shutil, signal, subprocess, sys, tempfile, threading, time
from pymongo import MongoClient, WriteConcern
port = int(sys.argv[1]); seconds = float(sys.argv[2]); writers = int(sys.argv[3])
data = tempfile.mkdtemp(prefix="crashloss-")
def start():
    p = subprocess.Popen(["secantusd-rs", "--port", str(port), "--storage-path", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            MongoClient(port=port, serverSelectionTimeoutMS=200).admin.command("ping"); return p
        except Exception: time.sleep(0.1)
    raise SystemExit("no server")
server = start()
coll = MongoClient(port=port, serverSelectionTimeoutMS=2000).crash.docs.with_options(write_concern=WriteConcern(w="majority", j=True))
acked = []; stop = False
def write(w):
    i = 0
    while not stop:
        try:
            coll.insert_one({"_id": f"{w}-{i}"}); acked.append(f"{w}-{i}"); i += 1
        except Exception: return
threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
[t.start() for t in threads]
time.sleep(seconds)
server.send_signal(signal.SIGKILL); server.wait(); stop = True
[t.join() for t in threads]
server = start()
found = set(d["_id"] for d in MongoClient(port=port).crash.docs.find({}, {"_id": 1}))
lost = [a for a in acked if a not in found]
print(f"acked {len(acked)}, lost after SIGKILL and restart: {len(lost)}")
server.send_signal(signal.SIGKILL)
server.wait()
shutil.rmtree(data, ignore_errors=True)
