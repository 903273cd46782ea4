/**
 * A failure of an environment module: it could not be loaded, is not an env, or broke the
 * contract while running (threw, returned NaN or an observation of the wrong length). The
 * message names the env and, for a failure while running, the call and the episode step;
 * a run adds its own training step (`atTrainingStep`).
 */
export class EnvError extends Error {
  override name = 'EnvError';
  /** The run's step at which it failed, once a run has said so. */
  trainingStep: number | undefined;

  /** `input`: the failure is in what the user gave (a path, an export), so it is a usage error, not a runtime one. */
  constructor(
    message: string,
    readonly input = false,
  ) {
    super(message);
  }

  /** Adds the run's step to the message, once. */
  atTrainingStep(step: number): this {
    if (this.trainingStep === undefined) {
      this.trainingStep = step;
      this.message = `${this.message} (at training step ${step})`;
    }
    return this;
  }
}
