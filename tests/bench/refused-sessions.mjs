// What refused sessions leave behind in a chat-server: rounds of engine
// sessions whose CONNECT is refused (handshake, `40{"token":"bad"}`, one
// poll, as socket.io-client does on polling), each round followed by a wait,
// with the server's RSS read from /proc after each wait.
//
//   node tests/bench/refused-sessions.mjs URL PID [ROUNDS] [SESSIONS] [WAIT_SECONDS]
//
// The server must allow this many sessions from one address at once (set
// CHAT_MAX_PENDING_PER_ADDRESS and CHAT_MAX_PENDING_SESSIONS above
// CONCURRENCY). Prints one JSON line per round; see docs/benchmarks.md.
import { readFileSync } from 'node:fs';

const [url, pid, rounds = '5', sessions = '4000', wait = '60'] = process.argv.slice(2);
if (!url || !pid) {
  console.error('usage: refused-sessions.mjs URL PID [ROUNDS] [SESSIONS] [WAIT_SECONDS]');
  process.exit(2);
}
const CONCURRENCY = 50;

const rssKiB = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One refused session; resolves with what its poll got (the refusal, `44{...}`, maybe after a ping). */
async function refused() {
  const base = `${url}/socket.io/?EIO=4&transport=polling`;
  const open = await (await fetch(base)).text();
  const { sid } = JSON.parse(open.slice(1));
  const post = await fetch(`${base}&sid=${sid}`, { method: 'POST', body: '40{"token":"bad"}' });
  await post.text();
  return (await fetch(`${base}&sid=${sid}`)).text();
}

let refusals = 0;
const start = rssKiB();
console.log(JSON.stringify({ round: 0, rssKiB: start }));
for (let round = 1; round <= Number(rounds); round += 1) {
  let left = Number(sessions);
  const worker = async () => {
    while (left > 0) {
      left -= 1;
      if ((await refused()).includes('44{')) refusals += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await sleep(Number(wait) * 1000);
  const rss = rssKiB();
  console.log(JSON.stringify({ round, sessions: Number(sessions), refusals, rssKiB: rss, growthKiB: rss - start }));
}
