/**
 * `alf verify PACK [INPUT...]`
 *
 * Re-hashes every file an evidence pack's manifest lists and reports changed,
 * missing and extra files; given the original inputs, re-hashes them too. The
 * work is in ../verify-run.ts, imported when the command runs.
 */
import type { Argv, CommandModule } from 'yargs';
import type { CommandContext } from '../context.ts';

export interface VerifyArgs {
  readonly pack?: string | undefined;
  readonly inputs?: string[] | undefined;
  readonly quiet?: unknown;
  readonly alf: CommandContext;
}

export const verifyCommand: CommandModule<object, VerifyArgs> = {
  command: 'verify <pack> [inputs..]',
  describe: 'Check an evidence pack against its manifest (and the original inputs, when given)',
  builder: (yargs: Argv<object>) => yargs
    .positional('pack', { describe: 'the pack directory written by `alf analyze`', type: 'string' })
    .positional('inputs', { describe: 'the original log files, to check they are the bytes the pack was made from', type: 'string', array: true })
    .example('alf verify alf-access.log-20181215T101831Z-20181216T101442Z', 'every file of the pack unchanged?')
    .example('alf verify pack access.log.2018-12-15.gz', 'and the input too')
    .epilogue('Report on stdout. Exit status: 0 the pack is intact and complete (and every input given matches); 1 a file changed, is missing or extra, an input differs, or the pack is intact but its run was interrupted or partial; 3 the pack (or its manifest, or an input) cannot be read.') as unknown as Argv<VerifyArgs>,
  handler: async (args) => {
    const { runVerify } = await import('../verify-run.ts');
    args.alf.setExitCode(await runVerify(args));
  },
};
