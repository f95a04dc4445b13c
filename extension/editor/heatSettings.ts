// How line heat is asked of the tracer for one launch: the `lineHeat` mode and `lineHeatFiles`
// from a launch configuration, else from the settings (tracelens.heat.mode / .files; always
// "sampled" for a configuration with `calls: false`). Pure data in and out; no vscode import
// (launchDefaults.ts applies it to debug configurations).

export type LineHeatMode = 'off' | 'sampled' | 'exact';

/** The line heat attributes for a configuration (pure: settings and configuration in, fields out). */
export function heatAttributes(
  config: {
    lineHeat?: unknown;
    lineHeatFiles?: unknown;
    lineHeatSampleRate?: unknown;
    program?: unknown;
    calls?: unknown;
  },
  settings: {
    mode: string | undefined;
    files: readonly string[] | undefined;
    sampleRate?: number | undefined;
  },
): { lineHeat: LineHeatMode; lineHeatFiles: string[]; lineHeatSampleRate?: number } {
  const valid = (m: unknown): m is LineHeatMode => m === 'off' || m === 'sampled' || m === 'exact';
  // Without call recording only sampled heat can be recorded: the settings' mode does not apply.
  const lineHeat: LineHeatMode = valid(config.lineHeat)
    ? config.lineHeat
    : config.calls === false
      ? 'sampled'
      : valid(settings.mode)
        ? settings.mode
        : 'sampled';
  let lineHeatFiles: string[] = Array.isArray(config.lineHeatFiles)
    ? config.lineHeatFiles.filter((f): f is string => typeof f === 'string')
    : [...(settings.files ?? [])];
  if (lineHeat === 'exact' && lineHeatFiles.length === 0 && typeof config.program === 'string')
    lineHeatFiles = [config.program];
  const rate =
    typeof config.lineHeatSampleRate === 'number' ? config.lineHeatSampleRate : settings.sampleRate;
  return lineHeat === 'sampled' && rate !== undefined
    ? { lineHeat, lineHeatFiles, lineHeatSampleRate: rate }
    : { lineHeat, lineHeatFiles };
}
