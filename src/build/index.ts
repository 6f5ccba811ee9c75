/** Evaluator builds: safe unpacking, cached Python environments, build logs. */
export { unpackArchive, DEFAULT_UNPACK_LIMITS } from './unpack.js';
export type { ArchiveKind, UnpackLimits, UnpackOptions, UnpackResult } from './unpack.js';
export { ensureEnvironment, mostUsefulLine, normaliseRequirements, requirementsHash } from './environments.js';
export type { EnsureEnvironmentOptions, Environment, PipSettings } from './environments.js';
export { DEFAULT_INSTALLER_LIMITS, runInstallerLocally, sandboxedInstaller } from './installer.js';
export type { InstallerOptions, InstallerResult, RunInstaller, SandboxedInstallerOptions } from './installer.js';
export { BuildLog, LineSplitter, type BuildLogOptions } from './build-log.js';
