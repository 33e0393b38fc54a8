export { repositoryRoot } from '../../stacks/lib/repository-root.js';
