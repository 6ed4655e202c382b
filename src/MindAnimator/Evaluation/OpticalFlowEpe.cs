using System.Runtime.InteropServices;
using MindAnimator.Data;
using OpenCvSharp;

namespace MindAnimator.Evaluation;

/// <summary>
/// End-point error of optical flow as Mind-Animator measures motion: OpenCV Farneback flow between consecutive frames
/// (frames converted with <c>COLOR_BGR2GRAY</c> — applied to RGB data, as the reference does — and parameters
/// pyr_scale 0.5, levels 3, winsize 15, iterations 3, poly_n 5, poly_sigma 1.2, flags 0) for the reconstruction
/// and for the ground truth; the clip's EPE is the mean over all frame pairs and pixels of ‖flow_gt − flow_pred‖₂.
/// </summary>
// Mirrors Mind-Animator Evaluation_Metrics/EPE.py (compute_optical_flow, compute_epe, calculate_epe_ae).
public static class OpticalFlowEpe
{
    public const double PyramidScale = 0.5;
    public const int Levels = 3;
    public const int WindowSize = 15;
    public const int Iterations = 3;
    public const int PolyN = 5;
    public const double PolySigma = 1.2;

    /// <summary>The clip's EPE (lower is better).</summary>
    public static double ClipEpe(ClipFrames prediction, ClipFrames groundTruth)
    {
        if (prediction.Frames != groundTruth.Frames || prediction.Height != groundTruth.Height || prediction.Width != groundTruth.Width)
        {
            throw new ArgumentException($"clip '{prediction.ClipId}': prediction {prediction.Frames}×{prediction.Height}×{prediction.Width} vs ground truth {groundTruth.Frames}×{groundTruth.Height}×{groundTruth.Width}");
        }
        if (prediction.Frames < 2)
        {
            throw new ArgumentException($"clip '{prediction.ClipId}': EPE needs at least 2 frames");
        }
        return Epe(Flows(prediction), Flows(groundTruth));
    }

    /// <summary>
    /// EPE from precomputed flows (<see cref="Flows"/>), so a caller that scores many variants of one clip (e.g. the
    /// frame-shuffle test) computes the ground truth's flows once.
    /// </summary>
    public static double Epe(float[][] predictionFlows, float[][] groundTruthFlows)
    {
        if (predictionFlows.Length != groundTruthFlows.Length || predictionFlows.Length == 0)
        {
            throw new ArgumentException($"flow counts differ or are zero: {predictionFlows.Length} vs {groundTruthFlows.Length}");
        }
        double sum = 0;
        long count = 0;
        for (var p = 0; p < predictionFlows.Length; p++)
        {
            var a = predictionFlows[p];
            var b = groundTruthFlows[p];
            if (a.Length != b.Length)
            {
                throw new ArgumentException($"flow {p}: sizes differ ({a.Length / 2} vs {b.Length / 2} pixels)");
            }
            for (var i = 0; i < a.Length; i += 2)
            {
                var du = (double)b[i] - a[i];
                var dv = (double)b[i + 1] - a[i + 1];
                sum += Math.Sqrt((du * du) + (dv * dv));
            }
            count += a.Length / 2;
        }
        return sum / count;
    }

    /// <summary>Farneback flow from frame f to f+1 for each consecutive pair, as interleaved (dx, dy) float32 per pixel.</summary>
    public static float[][] Flows(ClipFrames clip)
    {
        try
        {
            return FarnebackFlows(clip);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or BadImageFormatException or EntryPointNotFoundException)
        {
            throw new MindAnimatorException($"EPE needs OpenCV's native library (NuGet OpenCvSharp4.official.runtime.linux-x64, shipped with mindanim for linux-x64), which could not be loaded here: {e.GetBaseException().Message}", e);
        }
    }

    private static float[][] FarnebackFlows(ClipFrames clip)
    {
        var grays = new Mat[clip.Frames];
        try
        {
            for (var f = 0; f < clip.Frames; f++)
            {
                grays[f] = Gray(clip, f);
            }
            var flows = new float[clip.Frames - 1][];
            using var flow = new Mat();
            for (var f = 0; f + 1 < clip.Frames; f++)
            {
                Cv2.CalcOpticalFlowFarneback(grays[f], grays[f + 1], flow, PyramidScale, Levels, WindowSize, Iterations, PolyN, PolySigma, OpticalFlowFlags.None);
                var values = new float[clip.Height * clip.Width * 2];
                if (!flow.IsContinuous() || flow.Type() != MatType.CV_32FC2)
                {
                    throw new InvalidOperationException($"unexpected Farneback output {flow.Type()}");
                }
                Marshal.Copy(flow.Data, values, 0, values.Length);
                flows[f] = values;
            }
            return flows;
        }
        finally
        {
            foreach (var g in grays)
            {
                g?.Dispose();
            }
        }
    }

    private static Mat Gray(ClipFrames clip, int f)
    {
        using var rgb = new Mat(clip.Height, clip.Width, MatType.CV_8UC3);
        Marshal.Copy(clip.Rgb, f * clip.FrameBytes, rgb.Data, clip.FrameBytes);
        var gray = new Mat();
        // The RGB bytes are given to OpenCV as BGR, as the reference does (weights 0.114 R + 0.587 G + 0.299 B).
        Cv2.CvtColor(rgb, gray, ColorConversionCodes.BGR2GRAY);
        return gray;
    }
}
