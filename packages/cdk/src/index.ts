export { EcsTrace, type EcsTraceProps, type EcsTraceUiProps, type FargateSidecarProps } from './ecs-trace.js';
export { EcsTraceStore, type DatabaseProps } from './store.js';
export { ACKNOWLEDGED } from './nag.js';
export { templateStack, type TemplateStackProps } from './template.js';
export { taskDefinitionOf } from './cfn-task-definition.js';
