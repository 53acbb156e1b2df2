import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');

/**
 * Every npm command in this checkout must run without warnings: the project's .npmrc holds only keys npm
 * knows, and each dependency with an install script is allowed or denied in package.json's allowScripts
 * (onnxruntime-node's is denied: it only downloads the CUDA provider; its bundled CPU runtime is what runs).
 */
describe('npm configuration of the project', () => {
  it('has no unknown project config', async () => {
    const { stderr } = await run('npm', ['pkg', 'get', 'name'], { cwd: root });
    expect(stderr).not.toMatch(/Unknown project config/);
  });

  it('covers every install script with allowScripts, onnxruntime-node denied', async () => {
    const { stdout, stderr } = await run('npm', ['install-scripts', 'ls'], { cwd: root });
    expect(`${stdout}${stderr}`).not.toMatch(/not yet covered/);
    const { stdout: policy } = await run('npm', ['pkg', 'get', 'allowScripts'], { cwd: root });
    expect((JSON.parse(policy) as Record<string, boolean>)['onnxruntime-node']).toBe(false);
  });
});
