// The store's in-memory index of calls per lane of the flame chart: columns in typed arrays, in
// start order (the order the tracer opens calls on one thread), so a flame window or per-function
// aggregates over a million calls are a loop over arrays instead of a million SQL rows. A lane is a
// thread, or an asyncio task on a thread: a call that ran in a task (calls.task), and every call
// under it, goes to the task's lane; each call is in exactly one lane. Written by the Ingestor as
// calls open and end, trimmed from the front by the cap, rebuilt when a trace file is opened.
// Runs inside the store worker; knows nothing of SQL or the wire.

/** A growable set of columns; index i is one call. */
export class Track {
  n = 0;
  id = new Int32Array(64);
  /** Parent call id, -1 at the top. */
  parent = new Int32Array(64);
  start = new Float64Array(64);
  /** NaN while the call has not ended. */
  end = new Float64Array(64);
  /** Duration minus the durations of its children (NaN until it ends). */
  own = new Float64Array(64);
  depth = new Int32Array(64);
  code = new Int32Array(64);
  flags = new Uint8Array(64);
  /** strings.id of the return (or yielded) value, -1 for none. */
  ret = new Int32Array(64);
  /** strings.id of the exception's type and message when the call raised, -1 for none. */
  excType = new Int32Array(64);
  excMessage = new Int32Array(64);
  /** Arguments, CSR: those of the call at index i are argIds[argOff[i] .. argOff[i + 1]] (-1: none). */
  argOff = new Int32Array(65);
  argIds = new Int32Array(64);
  maxDepth = 0;
  /** Greatest end of any of its calls (0 before any ended). */
  maxEnd = 0;
  /**
   * Smallest depth of its calls: 0 for a thread's lane; for a task's lane the depth of its
   * shallowest call (a coroutine run by the event loop sits under the frames that started the
   * loop), so the lane draws from its own top row.
   */
  minDepth = 0;

  constructor(
    readonly thread: number,
    readonly process: number,
    /** Key in the TrackIndex: the thread id for a thread's lane, negative for a task's lane. */
    readonly key: number = thread,
    /** strings.id of the task's name; -1 for a thread's lane. */
    readonly task: number = -1,
  ) {
    if (task >= 0) this.minDepth = 0x7fffffff;
  }

  push(
    id: number,
    parent: number,
    start: number,
    depth: number,
    code: number,
    flags: number,
  ): number {
    if (this.n === this.id.length) this.grow(this.n * 2);
    const i = this.n++;
    this.id[i] = id;
    this.parent[i] = parent;
    this.start[i] = start;
    this.end[i] = NaN;
    this.own[i] = NaN;
    this.depth[i] = depth;
    this.code[i] = code;
    this.flags[i] = flags;
    this.ret[i] = -1;
    this.excType[i] = -1;
    this.excMessage[i] = -1;
    this.argOff[i + 1] = this.argOff[i];
    if (depth > this.maxDepth) this.maxDepth = depth;
    if (depth < this.minDepth) this.minDepth = depth;
    return i;
  }

  /** Copies the call at index i of `src` (all its columns) to the end; returns its index. */
  copyFrom(src: Track, i: number, parent: number): number {
    const j = this.push(src.id[i], parent, src.start[i], src.depth[i], src.code[i], src.flags[i]);
    this.end[j] = src.end[i];
    this.own[j] = src.own[i];
    this.values(j, src.ret[i], src.excType[i], src.excMessage[i]);
    for (let a = src.argOff[i]; a < src.argOff[i + 1]; a++) this.pushArg(src.argIds[a]);
    const e = src.end[i];
    if (e > this.maxEnd) this.maxEnd = e;
    return j;
  }

  /** Depth of its deepest call below its top row (what a lane needs rows for). */
  get rows(): number {
    return this.n === 0 || this.minDepth > this.maxDepth ? 0 : this.maxDepth - this.minDepth;
  }

  /** Appends an argument value id (-1: unknown) to the last call pushed. */
  pushArg(id: number): void {
    const at = this.argOff[this.n];
    if (at === this.argIds.length) {
      const b = new Int32Array(at * 2);
      b.set(this.argIds);
      this.argIds = b;
    }
    this.argIds[at] = id;
    this.argOff[this.n] = at + 1;
  }

  /** Records the value ids the call at index i ended with (-1: none). */
  values(i: number, ret: number, excType: number, excMessage: number): void {
    this.ret[i] = ret;
    this.excType[i] = excType;
    this.excMessage[i] = excMessage;
  }

  /** Records the end of the call at index i. */
  close(i: number, end: number, own: number, flags: number): void {
    this.end[i] = end;
    this.own[i] = own;
    this.flags[i] = flags;
    if (end > this.maxEnd) this.maxEnd = end;
  }

  /** Index of call `id`, or -1 (ids increase along the track). */
  find(id: number): number {
    let lo = 0;
    let hi = this.n - 1;
    const ids = this.id;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = ids[mid];
      if (v === id) return mid;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** First index whose start is >= t. */
  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.n;
    const s = this.start;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index after the subtree of the call at index i (its descendants follow it). */
  subtreeEnd(i: number): number {
    const d = this.depth[i];
    let j = i + 1;
    while (j < this.n && this.depth[j] > d) j++;
    return j;
  }

  /** Keeps only the calls at the given sorted indexes plus everything from `from` on. */
  keep(pinned: number[], from: number): void {
    this.keepArgs(pinned, from);
    const cols = this.columns();
    let w = 0;
    for (const i of pinned) {
      if (i !== w) for (const c of cols) c[w] = c[i];
      w++;
    }
    if (from !== w) for (const c of cols) c.copyWithin(w, from, this.n);
    this.n = w + (this.n - from);
    if (this.id.length > 1024 && this.n < this.id.length / 4) this.grow(this.n * 2);
  }

  /** keep() for the argument CSR (before the other columns move). */
  private keepArgs(pinned: number[], from: number): void {
    const off = this.argOff;
    const ids = this.argIds;
    let w = 0;
    let at = 0;
    for (const i of pinned) {
      const a = off[i];
      const b = off[i + 1];
      off[w] = at;
      ids.copyWithin(at, a, b);
      at += b - a;
      w++;
    }
    const base = off[from];
    const end = off[this.n];
    ids.copyWithin(at, base, end);
    for (let i = from; i <= this.n; i++) off[w + i - from] = off[i] - base + at;
  }

  private columns(): (Int32Array | Float64Array | Uint8Array)[] {
    return [
      this.id,
      this.parent,
      this.start,
      this.end,
      this.own,
      this.depth,
      this.code,
      this.flags,
      this.ret,
      this.excType,
      this.excMessage,
    ];
  }

  private grow(capacity: number): void {
    const n = this.n;
    const g = <T extends Int32Array | Float64Array | Uint8Array>(
      a: T,
      make: (k: number) => T,
    ): T => {
      const b = make(Math.max(64, capacity));
      b.set(a.subarray(0, n));
      return b;
    };
    this.id = g(this.id, (k) => new Int32Array(k));
    this.parent = g(this.parent, (k) => new Int32Array(k));
    this.start = g(this.start, (k) => new Float64Array(k));
    this.end = g(this.end, (k) => new Float64Array(k));
    this.own = g(this.own, (k) => new Float64Array(k));
    this.depth = g(this.depth, (k) => new Int32Array(k));
    this.code = g(this.code, (k) => new Int32Array(k));
    this.flags = g(this.flags, (k) => new Uint8Array(k));
    this.ret = g(this.ret, (k) => new Int32Array(k));
    this.excType = g(this.excType, (k) => new Int32Array(k));
    this.excMessage = g(this.excMessage, (k) => new Int32Array(k));
    const off = new Int32Array(Math.max(64, capacity) + 1);
    off.set(this.argOff.subarray(0, n + 1));
    this.argOff = off;
    const used = off[n];
    if (this.argIds.length > 1024 && used < this.argIds.length / 4) {
      this.argIds = this.argIds.slice(0, Math.max(64, used * 2));
    }
  }
}

/**
 * The tracks of a store, by key: a thread's lane under its store thread id, a task's lane under a
 * negative key given when its first call arrives (tasksOf lists them per thread).
 */
export class TrackIndex {
  readonly tracks = new Map<number, Track>();
  /** Per thread id: its tasks' lanes, by task string id, in the order they first ran. */
  private readonly taskLanes = new Map<number, Map<number, Track>>();
  private nextLane = 0;

  track(thread: number, process: number): Track {
    let t = this.tracks.get(thread);
    if (!t) {
      t = new Track(thread, process);
      this.tracks.set(thread, t);
    }
    return t;
  }

  /** The lane of asyncio task `task` (strings.id of its name) on a thread, made on first use. */
  taskLane(thread: number, process: number, task: number): Track {
    let m = this.taskLanes.get(thread);
    if (!m) this.taskLanes.set(thread, (m = new Map()));
    let t = m.get(task);
    if (!t) {
      t = new Track(thread, process, --this.nextLane, task);
      m.set(task, t);
      this.tracks.set(t.key, t);
    }
    return t;
  }

  /** The task lanes of a thread (empty for a thread that ran no asyncio task). */
  tasksOf(thread: number): Iterable<Track> {
    return this.taskLanes.get(thread)?.values() ?? [];
  }

  /** Whether a thread's calls are split over task lanes. */
  hasTasks(thread: number): boolean {
    return (this.taskLanes.get(thread)?.size ?? 0) > 0;
  }

  /**
   * Moves a thread's calls to the lanes of the tasks they ran in (`taskAt(i)`: strings.id of the
   * task of the call at index i, -1 for none; a call without one goes where its caller is), as
   * the Ingestor places them as they open. For a thread read whole from a trace file.
   */
  splitTasks(thread: number, taskAt: (i: number) => number): void {
    const src = this.tracks.get(thread);
    if (!src || src.task >= 0) return;
    const own = new Track(thread, src.process);
    this.tracks.set(thread, own);
    const depth: number[] = [];
    const lanes: Track[] = [];
    for (let i = 0; i < src.n; i++) {
      const d = src.depth[i];
      while (depth.length > 0 && depth[depth.length - 1] >= d) {
        depth.pop();
        lanes.pop();
      }
      const top = lanes[lanes.length - 1];
      const task = taskAt(i);
      const lane = task >= 0 ? this.taskLane(thread, src.process, task) : (top ?? own);
      lane.copyFrom(src, i, top === lane ? src.parent[i] : -1);
      depth.push(d);
      lanes.push(lane);
    }
  }

  /** A lane by key (a thread id: that thread's own lane). */
  get(key: number): Track | undefined {
    return this.tracks.get(key);
  }

  /** The lane holding call `id` among a thread's lanes, or undefined. */
  laneOf(thread: number, id: number): Track | undefined {
    const own = this.tracks.get(thread);
    if (own && own.find(id) >= 0) return own;
    for (const t of this.tasksOf(thread)) if (t.find(id) >= 0) return t;
    return undefined;
  }

  /** Calls held (all tracks). */
  get size(): number {
    let n = 0;
    for (const t of this.tracks.values()) n += t.n;
    return n;
  }
}
