// Names the extension shares with package.json: command ids, the debug type, setting names, the
// timeline's view type and theme colour ids. One place, checked against package.json's
// `contributes` by test/unit/contributions.test.ts. Pure data: imports nothing from vscode.

import { DEBUG_TYPE } from '../adapter/protocol/dap';

export { DEBUG_TYPE };

export const EXTENSION_ID = 'tracelens.tracelens';
export const PYTHON_EXTENSION_ID = 'ms-python.python';

export const Commands = {
  TraceFile: 'tracelens.traceFile',
  ShowTimeline: 'tracelens.showTimeline',
  /** Arguments: optional [uri, line (0-based)]; default the active editor's cursor. */
  ShowCallsInTimeline: 'tracelens.showCallsInTimeline',
  ClearTrace: 'tracelens.clearTrace',
  SaveTrace: 'tracelens.saveTrace',
  OpenTrace: 'tracelens.openTrace',
  ExportChrome: 'tracelens.exportChrome',
  PauseRecording: 'tracelens.pauseRecording',
  ResumeRecording: 'tracelens.resumeRecording',
  ChangeRecordedScope: 'tracelens.changeRecordedScope',
  PreviousCall: 'tracelens.previousCall',
  NextCall: 'tracelens.nextCall',
  ToggleHeat: 'tracelens.toggleHeat',
  TraceFileWithHeat: 'tracelens.traceFileWithHeat',
  ProfileFileHeatOnly: 'tracelens.profileFileHeatOnly',
  AttachToProcess: 'tracelens.attachToProcess',
  /** Returns the chosen pid as a string, for `"processId": "${command:tracelens.pickProcess}"`. */
  PickProcess: 'tracelens.pickProcess',
} as const;

/** Commands registered but not contributed (targets of the hovers' command links). */
export const InternalCommands = {
  /** Arguments: [callId] — selects the call (the editor shows its values). */
  SelectCall: 'tracelens.selectCall',
  /** Arguments: [callId] — selects the call and shows the timeline. */
  ShowCallInTimeline: 'tracelens.showCallInTimeline',
} as const;

/** Titles as shown in the command palette (category "Tracelens"). */
export const CommandTitles: Record<keyof typeof Commands, string> = {
  TraceFile: 'Trace This File',
  ShowTimeline: 'Show Timeline',
  ShowCallsInTimeline: 'Show Calls in Timeline',
  ClearTrace: 'Clear Trace',
  SaveTrace: 'Save Trace As…',
  OpenTrace: 'Open Trace…',
  ExportChrome: 'Export Chrome Trace…',
  PauseRecording: 'Pause Recording',
  ResumeRecording: 'Resume Recording',
  ChangeRecordedScope: 'Change What Is Recorded…',
  PreviousCall: 'Previous Call',
  NextCall: 'Next Call',
  ToggleHeat: 'Toggle Line Heat',
  TraceFileWithHeat: 'Trace This File with Line Heat',
  ProfileFileHeatOnly: 'Profile This File (Line Heat Only)',
  AttachToProcess: 'Attach to Python Process...',
  PickProcess: 'Pick a Python Process',
};

export const COMMAND_CATEGORY = 'Tracelens';

/** Full setting names (section "tracelens"). */
export const Settings = {
  ShowValues: 'tracelens.editor.showValues',
  MaxValueLength: 'tracelens.editor.maxValueLength',
  OpenTimelineOnStart: 'tracelens.timeline.openOnTraceStart',
  CodeLens: 'tracelens.editor.codeLens',
  HeatEnabled: 'tracelens.heat.enabled',
  HeatMode: 'tracelens.heat.mode',
  HeatFiles: 'tracelens.heat.files',
  HeatSampleRate: 'tracelens.heat.sampleRate',
  Values: 'tracelens.values',
  Probes: 'tracelens.probes',
} as const;

export const SETTINGS_SECTION = 'tracelens';

/** The timeline WebviewPanel's view type (also its serializer's). */
export const Views = {
  Timeline: 'tracelens.timeline',
} as const;

export const TIMELINE_TITLE = 'Tracelens Timeline';

/** Theme colour ids contributed in package.json `colors`. */
export const Colors = {
  ReturnValueForeground: 'tracelens.returnValueForeground',
  ExceptionForeground: 'tracelens.exceptionForeground',
  HandledExceptionForeground: 'tracelens.handledExceptionForeground',
  ExceptionLineBackground: 'tracelens.exceptionLineBackground',
  ArgumentsForeground: 'tracelens.argumentsForeground',
  PropagatedExceptionForeground: 'tracelens.propagatedExceptionForeground',
  HeatBackground1: 'tracelens.heatBackground1',
  HeatBackground2: 'tracelens.heatBackground2',
  HeatBackground3: 'tracelens.heatBackground3',
  HeatBackground4: 'tracelens.heatBackground4',
  HeatBackground5: 'tracelens.heatBackground5',
  HeatOverviewRuler: 'tracelens.heatOverviewRuler',
} as const;

/** The heat background colour of each level (index 0: level 1). */
export const HEAT_BACKGROUNDS = [
  Colors.HeatBackground1,
  Colors.HeatBackground2,
  Colors.HeatBackground3,
  Colors.HeatBackground4,
  Colors.HeatBackground5,
] as const;

/** The launch configuration attributes (adapter/protocol/dap.ts LaunchArguments, minus noDebug). */
export const LAUNCH_ATTRIBUTES = [
  'program',
  'module',
  'args',
  'cwd',
  'env',
  'python',
  'include',
  'exclude',
  'lineHeat',
  'lineHeatFiles',
  'lineHeatSampleRate',
  'calls',
  'values',
  'probes',
] as const;

/** How often the editor and the timeline redraw while a trace grows, at most (ms between). */
export const REFRESH_INTERVAL_MS = 200;

/** The attach configuration attributes (adapter/protocol/dap.ts AttachArguments). */
export const ATTACH_ATTRIBUTES = ['processId', 'python', 'include', 'exclude'] as const;
