import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  crc32c,
  encodeRecord,
  listEventFiles,
  maskCrc,
  maskedCrc32c,
  proto,
  readEventFile,
  readLogdir,
  readRecords,
  readRun,
  RecordCorruptionError,
  scanRun,
  summarizeLogdir,
  SummaryWriter,
  type DecodedEvent,
  type DecodedValue,
  type LogdirSummary,
  type RunData,
} from '../src/tensorboard/index.js';
import { skipBecause } from './skip.js';

const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = resolve(here, '..');
const goldenDir = join(here, 'fixtures/tensorboard/golden');
const goldenEvents = (run: string): string => listEventFiles(join(goldenDir, run))[0]!;

/** The golden generator wrote wall_time = 1700000000 + step. */
const GOLDEN_T0 = 1_700_000_000;

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'rlsweep-tb-'));
}

/** All summary values of a run's events, with their event, in file order. */
function valuesOf(events: DecodedEvent[]): Array<{ event: DecodedEvent; value: DecodedValue }> {
  return events.flatMap((event) => event.values.map((value) => ({ event, value })));
}

function findValue(events: DecodedEvent[], tag: string, step = 0): { event: DecodedEvent; value: DecodedValue } {
  const found = valuesOf(events).find((entry) => entry.value.tag === tag && entry.event.step === step);
  if (!found) throw new Error(`no value ${tag}@${step}`);
  return found;
}

/** EXPECTED.json lists the float64 inputs; event files hold float32 scalars. */
function expectedAsFloat32(expected: LogdirSummary): LogdirSummary {
  const copy = structuredClone(expected);
  for (const run of Object.values(copy.runs)) {
    for (const points of Object.values(run.scalars ?? {})) {
      for (const point of points) point[1] = Math.fround(point[1]);
    }
  }
  return copy;
}

function loadExpected(): LogdirSummary {
  return JSON.parse(readFileSync(join(goldenDir, 'EXPECTED.json'), 'utf8')) as LogdirSummary;
}

describe('tensorboard: TFRecord framing', () => {
  it('computes CRC32C known vectors', () => {
    expect(crc32c(bytes('123456789'))).to.equal(0xe3069283);
    expect(crc32c(new Uint8Array(0))).to.equal(0);
    // RFC 3720 (iSCSI) appendix B.4 vectors.
    expect(crc32c(new Uint8Array(32))).to.equal(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).to.equal(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).to.equal(0x46dd794e);
  });

  it('masks CRCs as TFRecord does', () => {
    expect(maskCrc(0)).to.equal(0xa282ead8);
    const crc = 0xe3069283;
    expect(maskCrc(crc)).to.equal((((crc >>> 15) | (crc << 17)) + 0xa282ead8) % 2 ** 32);
    expect(maskedCrc32c(bytes('123456789'))).to.equal(maskCrc(0xe3069283));
  });

  it('re-frames the golden payloads into byte-identical files', () => {
    for (const run of ['.', 'trial_a', 'trial_b']) {
      const file = readFileSync(goldenEvents(run));
      const scan = readRecords(file, goldenEvents(run));
      expect(scan.truncatedTail).to.equal(false);
      expect(Buffer.concat(scan.records.map((record) => encodeRecord(record.payload))).equals(file)).to.equal(true);
    }
  });

  it('re-encodes every golden Event byte for byte', () => {
    for (const run of ['.', 'trial_a', 'trial_b']) {
      const file = readFileSync(goldenEvents(run));
      for (const record of readRecords(file).records) {
        const reencoded = proto.eventCodec.encode(proto.eventCodec.decode(record.payload));
        expect(Buffer.from(reencoded).equals(Buffer.from(record.payload)), `${run} @${record.offset}`).to.equal(true);
      }
    }
  });
});

describe('tensorboard: reading the golden logdir', () => {
  it('matches EXPECTED.json for every run and field', () => {
    const summary = summarizeLogdir(readLogdir(goldenDir));
    expect(summary).to.deep.equal(expectedAsFloat32(loadExpected()));
  });

  it('exposes raw events with plugin names, versions and full data', () => {
    const { events, truncatedTail } = readEventFile(goldenEvents('trial_a'));
    expect(truncatedTail).to.equal(false);
    expect(events[0]!.file_version).to.equal('brain.Event:2');
    const plugins = new Set(valuesOf(events).map((entry) => `${entry.value.tag}:${entry.value.plugin_name}`));
    expect([...plugins].sort()).to.deep.equal([
      '_hparams_/session_start_info:hparams',
      'config:text',
      'eval/return_mean:scalars',
      'policy/frame:images',
      'train/loss:scalars', // legacy simple_value
      'weights/dense_1:histograms',
    ]);
    const run = readRun(join(goldenDir, 'trial_a'));
    expect(run.texts.config![0]!.text).to.equal('| key | value |\n|---|---|\n| lr | 0.01 |');
    expect(run.images['policy/frame']![0]!.format).to.equal('png');
    expect(run.hparams_session).to.deep.equal({ group_name: 'trial_a', start_time_secs: GOLDEN_T0 });
    const counts = run.histograms['weights/dense_1']![0]!.buckets.map((bucket) => bucket[2]);
    expect(counts.reduce((a, b) => a + b, 0)).to.equal(1000);
  });
});

/** The golden content, logged again through our SummaryWriter. */
function writeGoldenLookalike(root: string): void {
  const experiment = new SummaryWriter(root);
  experiment.hparamsExperiment(
    [
      { name: 'lr', interval: { min: 1e-4, max: 0.1 } },
      { name: 'optimizer', values: ['adam', 'sgd'] },
      { name: 'batch_size', values: [32, 64] },
    ],
    [{ tag: 'eval/return_mean', displayName: 'eval return' }],
    { timeCreatedSecs: GOLDEN_T0 },
  );
  experiment.close();
  for (const trial of ['trial_a', 'trial_b']) writeTrialLookalike(root, trial);
}

function writeTrialLookalike(root: string, trial: string): void {
  const golden = readRun(join(goldenDir, trial));
  const writer = new SummaryWriter(join(root, trial));
  // Decoded in the golden file's map order, so the encoded content can match byte for byte.
  writer.hparamsSessionStart(golden.hparams!, { groupName: trial, startTimeSecs: GOLDEN_T0 });
  for (const [tag, points] of Object.entries(golden.scalars)) {
    for (const [step, value] of points) writer.scalar(tag, value, step, GOLDEN_T0 + step);
  }
  const text = golden.texts.config![0]!;
  writer.text('config', text.text, text.step, text.wall_time);
  const image = golden.images['policy/frame']![0]!;
  writer.image('policy/frame', image.bytes, image.width, image.height, image.step, image.wall_time);
  const histogram = golden.histograms['weights/dense_1']![0]!;
  writer.histogram('weights/dense_1', valuesReproducing(histogram.buckets), histogram.step, histogram.buckets.length, histogram.wall_time);
  writer.close();
}

/**
 * Data whose equal-width histogram has exactly these buckets: the extreme edges
 * once (they fix min and max), every other point at its bucket's midpoint.
 */
function valuesReproducing(buckets: Array<[number, number, number]>): number[] {
  const values = buckets.flatMap(([left, right, count]) => Array<number>(count).fill((left + right) / 2));
  values[0] = buckets[0]![0];
  values[values.length - 1] = buckets[buckets.length - 1]![1];
  return values;
}

function withoutEvents(run: RunData): RunData {
  const { events: _events, ...rest } = run;
  return rest;
}

describe('tensorboard: SummaryWriter round trip', () => {
  let root: string;
  before(() => {
    root = tempDir();
    writeGoldenLookalike(root);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('names files events.out.tfevents.<secs>.<host>.<pid>.<n> and starts with the version', () => {
    const files = listEventFiles(join(root, 'trial_a'));
    expect(files).to.have.length(1);
    expect(files[0]).to.match(new RegExp(`events\\.out\\.tfevents\\.\\d+\\..+\\.${process.pid}\\.\\d+$`));
    const first = readEventFile(files[0]!).events[0]!;
    expect(first.file_version).to.equal('brain.Event:2');
    expect(first.wall_time).to.be.closeTo(Date.now() / 1000, 60);
  });

  it('decodes to the same structures as the golden logdir', () => {
    const ours = readLogdir(root);
    const golden = readLogdir(goldenDir);
    expect(Object.keys(ours.runs)).to.deep.equal(['.', 'trial_a', 'trial_b']);
    for (const name of Object.keys(golden.runs)) {
      expect(withoutEvents(ours.runs[name]!), name).to.deep.equal(withoutEvents(golden.runs[name]!));
    }
    expect(summarizeLogdir(ours)).to.deep.equal(expectedAsFloat32(loadExpected()));
  });

  it('writes tensor-form summaries byte-identical to the golden ones', () => {
    for (const trial of ['trial_a', 'trial_b']) {
      const ours = readEventFile(listEventFiles(join(root, trial))[0]!).events;
      const golden = readEventFile(goldenEvents(trial)).events;
      for (const { event, value } of valuesOf(golden)) {
        if (value.value.simple_value !== undefined) continue; // we write scalars in tensor form only
        const mine = findValue(ours, value.tag, event.step).event;
        const encode = (e: DecodedEvent): string => Buffer.from(proto.eventCodec.encode(e.raw)).toString('hex');
        expect(encode(mine), `${trial} ${value.tag}@${event.step}`).to.equal(encode(event));
      }
    }
  });

  it('gives scalar/text/image/histogram/hparams summaries the golden plugin metadata', () => {
    const ours = readEventFile(listEventFiles(join(root, 'trial_a'))[0]!).events;
    const golden = readEventFile(goldenEvents('trial_a')).events;
    const tags = ['eval/return_mean', 'config', 'policy/frame', 'weights/dense_1', '_hparams_/session_start_info'];
    for (const tag of tags) {
      const step = tag === 'policy/frame' || tag === 'weights/dense_1' ? 50 : 0;
      const mine = findValue(ours, tag, step).value.value.metadata?.plugin_data;
      const theirs = findValue(golden, tag, step).value.value.metadata?.plugin_data;
      expect(mine?.plugin_name, tag).to.equal(theirs?.plugin_name);
      expect(Buffer.from(mine?.content ?? []).toString('hex'), tag).to.equal(Buffer.from(theirs?.content ?? []).toString('hex'));
    }
    const experiment = (dir: string): string => {
      const events = readEventFile(listEventFiles(dir)[0]!).events;
      return Buffer.from(findValue(events, '_hparams_/experiment').value.value.metadata!.plugin_data!.content!).toString('hex');
    };
    expect(experiment(root)).to.equal(experiment(goldenDir));
  });
});

describe('tensorboard: hparams encoding', () => {
  it('encodes google.protobuf.Value with the well-known field numbers', () => {
    const hex = (value: proto.ValueMessage): string => Buffer.from(proto.valueCodec.encode(value)).toString('hex');
    expect(hex({ number_value: 32 })).to.equal('110000000000004040');
    expect(hex({ number_value: 0 })).to.equal('110000000000000000'); // oneof member: written even when 0
    expect(hex({ string_value: 'adam' })).to.equal('1a046164616d');
    expect(hex({ bool_value: true })).to.equal('2001');
    expect(hex({ bool_value: false })).to.equal('2000');
    expect(hex({ list_value: { values: [{ string_value: 'a' }] } })).to.equal('32050a031a0161');
  });

  it('round-trips session start values of every kind and the end status', () => {
    const dir = tempDir();
    try {
      const writer = new SummaryWriter(dir);
      writer.hparamsSessionStart({ lr: 0.5, name: 'x', dueling: true, zero: 0, off: false }, { groupName: 'g', startTimeSecs: 12 });
      writer.hparamsSessionEnd('success', { endTimeSecs: 34 });
      writer.close();
      const run = readRun(dir);
      expect(run.hparams).to.deep.equal({ lr: 0.5, name: 'x', dueling: true, zero: 0, off: false });
      expect(run.hparams_session).to.deep.equal({ group_name: 'g', start_time_secs: 12, end_status: 'success', end_time_secs: 34 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('decodes the golden session start into the structure TensorBoard stores', () => {
    const { events } = readEventFile(goldenEvents('trial_b'));
    const content = findValue(events, '_hparams_/session_start_info').value.value.metadata!.plugin_data!.content!;
    expect(proto.hparamsPluginDataCodec.decode(content)).to.deep.equal({
      session_start_info: {
        hparams: { optimizer: { string_value: 'sgd' }, lr: { number_value: 0.001 }, batch_size: { number_value: 64 } },
        group_name: 'trial_b',
        start_time_secs: GOLDEN_T0,
      },
    });
  });
});

describe('tensorboard: damaged files', () => {
  let dir: string;
  let file: string;
  let recordOffsets: number[];
  beforeEach(() => {
    dir = tempDir();
    const writer = new SummaryWriter(dir);
    for (let step = 0; step < 5; step++) writer.scalar('loss', step / 10, step);
    writer.close();
    file = listEventFiles(dir)[0]!;
    recordOffsets = readRecords(readFileSync(file)).records.map((record) => record.offset);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every complete record of a file cut mid-record and reports the tail', () => {
    const data = readFileSync(file);
    const lastRecord = recordOffsets[recordOffsets.length - 1]!;
    for (const cut of [lastRecord + 5, lastRecord + 14, data.length - 1]) {
      writeFileSync(file, data.subarray(0, cut));
      const contents = readEventFile(file);
      expect(contents.truncatedTail, `cut at ${cut}`).to.equal(true);
      expect(contents.events.map((event) => event.step)).to.deep.equal([0, 0, 1, 2, 3]);
      const run = readRun(dir);
      expect(run.truncated_files).to.deep.equal([file]);
      expect(run.scalars.loss!.map((point) => point[0])).to.deep.equal([0, 1, 2, 3]);
    }
  });

  it('detects a flipped payload byte and names the file and offset', () => {
    const data = readFileSync(file);
    const target = recordOffsets[2]!;
    data[target + 12 + 3]! ^= 0x40;
    writeFileSync(file, data);
    expect(() => readEventFile(file)).to.throw(RecordCorruptionError, `${file}: corrupted TFRecord at byte offset ${target}: payload`);
  });

  it('detects a flipped length byte', () => {
    const data = readFileSync(file);
    const target = recordOffsets[1]!;
    data[target]! ^= 0x01;
    writeFileSync(file, data);
    try {
      readEventFile(file);
      expect.fail('expected a RecordCorruptionError');
    } catch (error) {
      expect(error).to.be.instanceOf(RecordCorruptionError);
      expect((error as RecordCorruptionError).offset).to.equal(target);
      expect((error as RecordCorruptionError).part).to.equal('length');
    }
  });
});

describe('tensorboard: restarts (SessionLog START)', () => {
  let dir: string;
  before(() => {
    dir = tempDir();
    const writer = new SummaryWriter(dir);
    writer.sessionLogStart(0);
    for (let step = 0; step <= 60; step += 10) {
      writer.scalar('loss', 1, step);
      writer.text('note', `first ${step}`, step);
    }
    // Resumed from the step-30 checkpoint: 30..60 are logged again.
    writer.sessionLogStart(30);
    for (let step = 30; step <= 40; step += 10) writer.scalar('loss', 2, step);
    writer.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('drops earlier points at or after the restart step', () => {
    const run = readRun(dir);
    expect(run.scalars.loss).to.deep.equal([
      [0, 1],
      [10, 1],
      [20, 1],
      [30, 2],
      [40, 2],
    ]);
    expect(run.texts.note!.map((point) => point.step)).to.deep.equal([0, 10, 20]);
  });

  it('keeps everything when purging is off, and exposes the session logs', () => {
    const run = readRun(dir, { purgeOnRestart: false, includeEvents: true });
    expect(run.scalars.loss).to.have.length(9);
    const starts = run.events!.filter((event) => event.session_log).map((event) => [event.step, event.session_log!.status_name]);
    expect(starts).to.deep.equal([
      [0, 'START'],
      [30, 'START'],
    ]);
  });
});

describe('tensorboard: scanRun (the lean reader of many runs)', () => {
  const projection = (run: RunData, scalars: string[], images: string[]) => ({
    scalars: Object.fromEntries(scalars.filter((tag) => run.scalars[tag]).map((tag) => [tag, run.scalars[tag]])),
    imageSteps: Object.fromEntries(images.filter((tag) => run.images[tag]).map((tag) => [tag, run.images[tag]!.map((image) => image.step)])),
    hparams_session: run.hparams_session,
    truncated_files: run.truncated_files,
  });

  it('keeps exactly what readRun reads of the asked tags, on the golden runs', () => {
    for (const name of ['trial_a', 'trial_b']) {
      const dir = join(goldenDir, name);
      const run = readRun(dir);
      const scalars = Object.keys(run.scalars);
      const images = Object.keys(run.images);
      expect(scalars, name).to.not.be.empty;
      expect(images, name).to.not.be.empty;
      const scan = scanRun(dir, { scalars: new Set(scalars), images: new Set(images) });
      const { lastScalarStep, ...kept } = scan;
      expect(kept, name).to.deep.equal(projection(run, scalars, images));
      let last = 0;
      for (const points of Object.values(run.scalars)) for (const [step] of points) last = Math.max(last, step);
      expect(lastScalarStep, name).to.equal(last);
      // Tags not asked for are not kept, but still count for how far the run got.
      const one = scanRun(dir, { scalars: new Set([scalars[0]!]) });
      expect(Object.keys(one.scalars)).to.deep.equal([scalars[0]]);
      expect(one.imageSteps).to.deep.equal({});
      expect(one.lastScalarStep).to.equal(last);
    }
  });

  it('applies restarts as readRun does, and reports a cut tail', () => {
    const dir = tempDir();
    try {
      const writer = new SummaryWriter(dir);
      for (let step = 0; step <= 40; step += 10) writer.scalar('loss', step, step);
      writer.sessionLogStart(30);
      writer.scalar('loss', -1, 30);
      writer.close();
      const tags = { scalars: new Set(['loss']) };
      expect(scanRun(dir, tags).scalars).to.deep.equal({
        loss: [
          [0, 0],
          [10, 10],
          [20, 20],
          [30, -1],
        ],
      });
      expect(scanRun(dir, tags).lastScalarStep).to.equal(30);
      const file = listEventFiles(dir)[0]!;
      const data = readFileSync(file);
      writeFileSync(file, data.subarray(0, data.length - 3));
      const cut = scanRun(dir, tags);
      expect(cut.truncated_files).to.deep.equal([file]);
      expect(cut.scalars).to.deep.equal(projection(readRun(dir), ['loss'], []).scalars);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads legacy simple_value scalars, and values whose metadata only the first of their tag carried', () => {
    const dir = tempDir();
    try {
      const writer = new SummaryWriter(dir);
      writer.addEvent({ wall_time: 1, step: 7, summary: { value: [{ tag: 'legacy', simple_value: 0.5 }] } });
      writer.scalar('bare', 1, 1);
      writer.addEvent({ wall_time: 2, step: 2, summary: { value: [{ tag: 'bare', tensor: { dtype: proto.TensorDataType.DT_FLOAT, tensor_shape: {}, float_val: [2] } }] } });
      writer.close();
      const tags = { scalars: new Set(['legacy', 'bare']) };
      expect(scanRun(dir, tags).scalars).to.deep.equal({
        legacy: [[7, 0.5]],
        bare: [
          [1, 1],
          [2, 2],
        ],
      });
      expect(scanRun(dir, tags).scalars).to.deep.equal(projection(readRun(dir), ['legacy', 'bare'], []).scalars);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tensorboard: SummaryWriter behaviour', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps events in memory until a flush', () => {
    const writer = new SummaryWriter(dir, { flushSeconds: 3600 });
    writer.scalar('a', 1, 1);
    expect(readRun(dir).scalars).to.deep.equal({});
    writer.flush();
    expect(readRun(dir).scalars).to.deep.equal({ a: [[1, 1]] });
    writer.close();
    expect(() => writer.scalar('a', 2, 2)).to.throw(/closed/);
  });

  it('flushes periodically without close()', async () => {
    const writer = new SummaryWriter(dir, { flushSeconds: 0.05 });
    writer.scalar('a', 1.5, 7);
    await new Promise((done) => setTimeout(done, 300));
    expect(readRun(dir).scalars).to.deep.equal({ a: [[7, 1.5]] });
    writer.close();
  });

  it('gives each writer its own file', () => {
    const first = new SummaryWriter(dir);
    const second = new SummaryWriter(dir, { filenameSuffix: '.v2' });
    expect(first.path).to.not.equal(second.path);
    expect(second.path.endsWith('.v2')).to.equal(true);
    first.close();
    second.close();
  });

  it('writes GIF images and empty or constant histograms as TensorBoard does', () => {
    const gif = Uint8Array.from(Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64'));
    const writer = new SummaryWriter(dir);
    writer.image('frame', gif, 1, 1, 3);
    writer.histogram('empty', [], 3);
    writer.histogram('constant', [2, 2, 2], 3);
    writer.histogram('spread', Float32Array.of(0, 1, 2, 3, NaN), 3, 3);
    writer.close();
    const run = readRun(dir);
    expect(run.images.frame![0]).to.deep.include({ step: 3, width: 1, height: 1, format: 'gif', bytes: gif });
    expect(run.histograms.empty![0]!.buckets).to.deep.equal([]);
    expect(run.histograms.constant![0]!.buckets).to.deep.equal([[1.5, 2.5, 3]]);
    expect(run.histograms.spread![0]!.buckets).to.deep.equal([
      [0, 1, 1],
      [1, 2, 1],
      [2, 3, 2],
    ]);
    const other = new SummaryWriter(dir);
    expect(() => other.image('raw', new Uint8Array(12), 2, 2, 0)).to.throw(TypeError, /raw/);
    other.close();
  });

  it('does not keep the process alive, and flushes at exit', () => {
    const script = join(dir, 'child.ts');
    const index = join(projectRoot, 'src/tensorboard/index.ts');
    writeFileSync(
      script,
      `import { SummaryWriter } from ${JSON.stringify(index)};\n` +
        `const writer = new SummaryWriter(${JSON.stringify(join(dir, 'logs'))}, { flushSeconds: 3600 });\n` +
        `writer.scalar('exit/flushed', 42, 5);\n`,
    );
    const started = Date.now();
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: projectRoot, timeout: 30_000, encoding: 'utf8' });
    expect(child.status, child.stderr).to.equal(0);
    expect(Date.now() - started).to.be.below(20_000);
    expect(readRun(join(dir, 'logs')).scalars).to.deep.equal({ 'exit/flushed': [[5, 42]] });
  });

  it('keeps scalar() cheap', () => {
    const writer = new SummaryWriter(dir, { flushSeconds: 3600 });
    const calls = 20_000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) writer.scalar('train/loss', i / calls, i);
    const microsPerCall = Number(process.hrtime.bigint() - started) / 1000 / calls;
    writer.close();
    expect(microsPerCall).to.be.below(50); // about 1.5 µs on a laptop-class CPU
    expect(readRun(dir).scalars['train/loss']).to.have.length(calls);
  });
});

describe('tensorboard: golden fixtures', () => {
  it('are a copy of shared/reference/tensorboard-golden when that is available', function () {
    const shared = resolve(projectRoot, '../shared/reference/tensorboard-golden');
    if (!existsSync(shared)) skipBecause(this, `no ${shared} to compare the golden fixtures with (it exists only beside the main checkout)`);
    expect(summarizeLogdir(readLogdir(shared))).to.deep.equal(summarizeLogdir(readLogdir(goldenDir)));
    expect(readFileSync(join(shared, 'EXPECTED.json'), 'utf8')).to.equal(readFileSync(join(goldenDir, 'EXPECTED.json'), 'utf8'));
  });
});
