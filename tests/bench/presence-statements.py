# What a presence batch costs the database per user, the way the store
# wrote it before (a move, then a conditional claim; users never seen found,
# inserted and moved again) and the way it writes it now (one pipeline
# update that moves and claims; users never seen inserted already online):
# 12,000 users in groups of 10, batches of BATCH users joining a node then
# leaving it, twice. Counts the wire server's own CPU (from /proc), so run
# it against a local server with nothing else using it. Needs
# `pip install pymongo`; see docs/benchmarks.md.
#
#   python3 tests/bench/presence-statements.py PORT [BATCH]
import os, subprocess, sys, time
from bson import ObjectId
from pymongo import MongoClient

port = int(sys.argv[1]); batch = int(sys.argv[2]) if len(sys.argv) > 2 else 50
users = MongoClient(port=port).presence_statements.users
server = int(subprocess.check_output(["pgrep", "-f", f"secantusd-rs --port {port}"]).split()[0])
READ_BACK = {"online": 1, "presenceClaim": 1, "presenceHidden": 1, "blocked": 1}
USERS = 12_000

def cpu():
    fields = open(f"/proc/{server}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def then_join(ids, node="n1"):
    if users.update_many({"_id": {"$in": ids}}, {"$addToSet": {"nodes": node}}).matched_count < len(ids):
        known = {u["_id"] for u in users.find({"_id": {"$in": ids}}, {"online": 1})}
        missing = [{"_id": i, "username": i, "name": "", "online": False, "nodes": []} for i in ids if i not in known]
        users.insert_many(missing, ordered=False)
        users.update_many({"_id": {"$in": ids}}, {"$addToSet": {"nodes": node}})
    users.update_many({"_id": {"$in": ids}, "nodes": node, "online": {"$ne": True}},
                      {"$set": {"online": True, "presenceClaim": ObjectId()}})
    list(users.find({"_id": {"$in": ids}}, READ_BACK))

def then_leave(ids, node="n1"):
    users.update_many({"_id": {"$in": ids}, "nodes": node}, {"$pull": {"nodes": node}})
    users.update_many({"_id": {"$in": ids}, "nodes": {"$size": 0}, "online": True},
                      {"$set": {"online": False, "lastSeen": time.time(), "presenceClaim": ObjectId()}})
    list(users.find({"_id": {"$in": ids}}, READ_BACK))

def now_join(ids, node="n1"):
    mark = ObjectId()
    users.update_many({"_id": {"$in": ids}}, [{"$set": {
        "presenceClaim": {"$cond": [{"$ne": ["$online", True]}, mark, "$presenceClaim"]},
        "online": True,
        "nodes": {"$setUnion": [{"$ifNull": ["$nodes", []]}, [node]]}}}])
    found = {u["_id"] for u in users.find({"_id": {"$in": ids}}, READ_BACK)}
    missing = [{"_id": i, "username": i, "name": "", "online": True, "nodes": [node], "presenceClaim": mark}
               for i in ids if i not in found]
    if missing:
        users.insert_many(missing, ordered=False)

def now_leave(ids, node="n1"):
    mark = ObjectId(); at = time.time()
    goes_offline = {"$and": [{"$eq": [{"$size": "$nodes"}, 0]}, {"$eq": ["$online", True]}]}
    users.update_many({"_id": {"$in": ids}}, [
        {"$set": {"nodes": {"$setDifference": [{"$ifNull": ["$nodes", []]}, [node]]}}},
        {"$set": {"presenceClaim": {"$cond": [goes_offline, mark, "$presenceClaim"]},
                  "lastSeen": {"$cond": [goes_offline, at, "$lastSeen"]},
                  "online": {"$cond": [goes_offline, False, "$online"]}}}])
    list(users.find({"_id": {"$in": ids}}, READ_BACK))

def measure(label, step):
    start = cpu()
    for first in range(0, USERS, batch):
        step([f"u{i}" for i in range(first, first + batch)])
    print(f"{label:32s} {(cpu() - start) / USERS * 1e6:6.1f} µs of database CPU per user")

for round in (1, 2):
    for name, join, leave in (("before", then_join, then_leave), ("now", now_join, now_leave)):
        users.drop()
        measure(f"{name}: join, users never seen", join)
        measure(f"{name}: leave", leave)
        measure(f"{name}: join, users known", join)
        measure(f"{name}: leave", leave)
users.drop()
