// Fills a `tracelens` launch configuration's attributes from the settings when the configuration
// does not set them: `lineHeat` from tracelens.heat.mode, `lineHeatFiles` from tracelens.heat.files
// (default for exact heat: the program itself), `lineHeatSampleRate` from
// tracelens.heat.sampleRate, `values` from tracelens.values and `probes` from tracelens.probes.
// A DebugConfigurationProvider beside the main one; it changes nothing else in the configuration.

import * as vscode from 'vscode';
import { Settings } from '../constants';
import { heatAttributes } from './heatSettings';

export class LaunchDefaults implements vscode.DebugConfigurationProvider {
  resolveDebugConfigurationWithSubstitutedVariables(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.DebugConfiguration {
    if (config.request !== 'launch') return config;
    const c = vscode.workspace.getConfiguration();
    const { lineHeat, lineHeatFiles, lineHeatSampleRate } = heatAttributes(
      config as Record<string, unknown>,
      {
        mode: c.get<string>(Settings.HeatMode),
        files: c.get<string[]>(Settings.HeatFiles),
        sampleRate: c.get<number>(Settings.HeatSampleRate),
      },
    );
    config.lineHeat = lineHeat;
    if (lineHeatFiles.length) config.lineHeatFiles = lineHeatFiles;
    if (lineHeatSampleRate !== undefined) config.lineHeatSampleRate = lineHeatSampleRate;
    if (config.values === undefined) {
      const values = c.get<string>(Settings.Values);
      if (values === 'repr' || values === 'structured') config.values = values;
    }
    if (config.probes === undefined) {
      const probes = c.get<unknown>(Settings.Probes);
      if (Array.isArray(probes) && probes.every((p) => typeof p === 'string'))
        config.probes = probes;
    }
    return config;
  }
}
