/** The four seed policies as ready-made presets (see each file for how the text was read). */
export { bitnami } from './bitnami';
export { coreos } from './coreos';
export { kubevirt } from './kubevirt';
export { openinfra } from './openinfra';
