import { spawn } from "node:child_process";

/**
 * How long this machine holds up a process that has nothing to do: a child that wakes every 5 ms and
 * reports, every 100 ms, the longest it was late. On this 2-vCPU VM an idle process was held up to 133 ms
 * during a browser flood, so no echo can be promised below what this reports for the same time span.
 */
const CHILD = `
let last = performance.now(), worst = 0;
setInterval(() => { const now = performance.now(); worst = Math.max(worst, now - last - 5); last = now; }, 5);
setInterval(() => { process.stdout.write(Date.now() + " " + worst.toFixed(1) + "\\n"); worst = 0; }, 100);
setTimeout(() => process.exit(0), 30 * 60_000);
`;

export class StallProbe {
  private readonly samples: { at: number; lateMs: number }[] = [];
  private readonly child = spawn(process.execPath, ["-e", CHILD], { stdio: ["ignore", "pipe", "inherit"] });

  constructor() {
    let rest = "";
    this.child.stdout!.on("data", (d: Buffer) => {
      const lines = (rest + d.toString()).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        const [at, late] = line.split(" ").map(Number);
        this.samples.push({ at: at!, lateMs: late! });
      }
    });
  }

  /** The longest an idle process was held up between these two times (Date.now()). */
  worstBetween(from: number, to: number): number {
    let worst = 0;
    for (const s of this.samples) if (s.at > from && s.at <= to + 100) worst = Math.max(worst, s.lateMs);
    return worst;
  }

  stop(): void {
    this.child.kill("SIGKILL");
  }
}
