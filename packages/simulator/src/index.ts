export { startSimulator, UnknownContainerError, type Simulator, type SimulatorOptions } from './simulator.js';
export { startImdsServer, metadataTree, IMDS_MODES, type ImdsMode, type ImdsServer, type ImdsServerOptions } from './imds-server.js';
export { startEcsAgentServer, v4Container, v4Task, introspectionTask, type EcsAgentServer } from './ecs-agent-server.js';
export { startDockerApiServer, type DockerApiServer } from './docker-api-server.js';
export { writeMetadataFiles, metadataFileContent, type MetadataFileOptions, type MetadataFiles } from './metadata-files.js';
export {
  createWorld, findContainer, taskIdPart, awslogsStream, DEFAULT_TASKS,
  type SimWorld, type SimTask, type SimContainer, type SimInstance, type SimPortMapping, type TaskSpec, type WorldOptions,
} from './world.js';
