/**
 * The app store, built from slices (one per concern). Components read it with `useAppStore(selector)`.
 */
import { create } from 'zustand';
import { probeGpu } from '../../train/gpu-info';
import { createGpuSlice, type GpuSlice } from './gpu-slice';

export type AppState = GpuSlice;

export const useAppStore = create<AppState>()((...args) => ({
  ...createGpuSlice(probeGpu)(...args),
}));
