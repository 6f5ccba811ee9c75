import { Command } from 'commander';
import { registerAccountCommands } from './account.js';
import { registerDatasetCommands } from './dataset-commands.js';
import { registerEvalCommand } from './eval-command.js';
import { registerEvaluatorCommands } from './evaluator-commands.js';
import { registerJobCommands } from './job-commands.js';
import { registerLoginCommand } from './login.js';
import { registerServeCommand } from './serve.js';
import { registerWorkerCommand } from './worker.js';

/** `tally`: the server, workers and the operator commands. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('tally').description('Tally: a self-hosted, Fireworks-compatible evaluation platform');
  program.showHelpAfterError().exitOverride();
  registerServeCommand(program);
  registerWorkerCommand(program);
  registerAccountCommands(program);
  registerLoginCommand(program);
  registerDatasetCommands(program);
  registerEvaluatorCommands(program);
  registerJobCommands(program);
  registerEvalCommand(program);
  try {
    await program.parseAsync(argv);
  } catch (error: unknown) {
    const code = (error as { exitCode?: number; code?: string }).exitCode;
    if (typeof code === 'number') {
      process.exitCode = code === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(`tally: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
