// A crop worker module that loads but never posts WORKER_LOADED, as a thread stuck in its start would.
export default function runTask() {
  return { ok: true, value: null };
}
