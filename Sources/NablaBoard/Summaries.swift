import Foundation
import Nabla
import SwiftProtobuf

/// Builders of the `Summary.Value` protos that `SummaryWriter` writes, as tensorboardX builds them.
enum Summaries {
    static func scalar(_ tag: String, _ value: Double) -> Tensorflow_Summary.Value {
        var v = Tensorflow_Summary.Value()
        v.tag = tag
        v.simpleValue = Float(value)
        return v
    }

    static func histogram(_ tag: String, _ values: Tensor, bins: HistogramBins) -> Tensorflow_Summary.Value? {
        guard let h = Histogram(values: values.toDoubleArray(), bins: bins) else { return nil }
        var proto = Tensorflow_HistogramProto()
        proto.min = h.min
        proto.max = h.max
        proto.num = h.num
        proto.sum = h.sum
        proto.sumSquares = h.sumSquares
        proto.bucketLimit = h.bucketLimits
        proto.bucket = h.bucketCounts
        var v = Tensorflow_Summary.Value()
        v.tag = tag
        v.histo = proto
        return v
    }

    /// Converts `image` to interleaved bytes (HWC): floats are scaled by 255 and clipped, integers clipped.
    static func image(_ tag: String, _ image: Tensor, format: ImageDataFormat) throws(SummaryWriterError) -> Tensorflow_Summary.Value {
        let rank = format == .hw ? 2 : 3
        check(image.rank == rank, "addImage: expected a rank-\(rank) image for data format \(format), got shape \(image.shape)")
        let hwc: Tensor = switch format {
        case .chw: image.permute([1, 2, 0])
        case .hwc: image
        case .hw: image.unsqueeze(2)
        }
        let (height, width, channels) = (hwc.shape[0], hwc.shape[1], hwc.shape[2])
        check([1, 2, 3, 4].contains(channels), "addImage: expected 1, 2, 3 or 4 channels, got \(channels) in shape \(image.shape)")
        let scale = image.dtype.isFloatingPoint || image.dtype == .bool ? 255.0 : 1.0
        let pixels = hwc.toDoubleArray().map { v -> UInt8 in
            let x = v * scale
            return x.isNaN ? 0 : UInt8(Swift.min(255, Swift.max(0, x)))  // truncation, as tensorboardX
        }
        var proto = Tensorflow_Summary.Image()
        proto.height = Int32(height)
        proto.width = Int32(width)
        proto.colorspace = Int32(channels)
        do {
            proto.encodedImageString = Data(try PNG.encode(pixels: pixels, width: width, height: height, channels: channels))
        } catch {
            throw .image(error)
        }
        var v = Tensorflow_Summary.Value()
        v.tag = tag
        v.image = proto
        return v
    }

    static func text(_ tag: String, _ text: String) -> Tensorflow_Summary.Value {
        var tensor = Tensorflow_TensorProto()
        tensor.dtype = .dtString
        tensor.stringVal = [Data(text.utf8)]
        var dim = Tensorflow_TensorShapeProto.Dim()
        dim.size = 1
        tensor.tensorShape.dim = [dim]
        var v = Tensorflow_Summary.Value()
        v.tag = tag + "/text_summary"
        v.metadata = metadata(plugin: "text", content: (try? Tensorboard_TextPluginData().serializedBytes()) ?? [])
        v.tensor = tensor
        return v
    }

    /// The three hparams plugin summaries: experiment, session start (the values), session end.
    static func hparams(_ hparams: [String: HParamValue], metrics: [String]) throws(SummaryWriterError) -> [Tensorflow_Summary.Value] {
        var start = Tensorboard_Hparams_SessionStartInfo()
        var infos: [Tensorboard_Hparams_HParamInfo] = []
        for (name, value) in hparams.sorted(by: { $0.key < $1.key }) {
            var info = Tensorboard_Hparams_HParamInfo()
            info.name = name
            switch value {
            case .number(let x): start.hparams[name] = Google_Protobuf_Value(numberValue: x); info.type = .float64
            case .string(let s): start.hparams[name] = Google_Protobuf_Value(stringValue: s); info.type = .string
            case .bool(let b): start.hparams[name] = Google_Protobuf_Value(boolValue: b); info.type = .bool
            }
            infos.append(info)
        }
        var experiment = Tensorboard_Hparams_Experiment()
        experiment.hparamInfos = infos
        experiment.metricInfos = metrics.sorted().map { tag in
            var info = Tensorboard_Hparams_MetricInfo()
            info.name.tag = tag
            return info
        }
        var end = Tensorboard_Hparams_SessionEndInfo()
        end.status = .success

        var data = [Tensorboard_Hparams_HParamsPluginData](repeating: .init(), count: 3)
        data[0].experiment = experiment
        data[1].sessionStartInfo = start
        data[2].sessionEndInfo = end
        let tags = ["_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"]
        var values: [Tensorflow_Summary.Value] = []
        for (tag, d) in zip(tags, data) {
            var v = Tensorflow_Summary.Value()
            v.tag = tag
            do { v.metadata = metadata(plugin: "hparams", content: try d.serializedBytes()) } catch { throw .serialization("\(error)") }
            values.append(v)
        }
        return values
    }

    static func graph(_ graph: GraphDescription) -> Tensorflow_GraphDef {
        var def = Tensorflow_GraphDef()
        def.versions.producer = 22  // as PyTorch writes it
        def.node = graph.nodes.map { node in
            var n = Tensorflow_NodeDef()
            n.name = node.name
            n.op = node.op
            n.input = node.inputs
            n.device = node.device
            if !node.outputShapes.isEmpty {
                var list = Tensorflow_AttrValue.ListValue()
                list.shape = node.outputShapes.map(shapeProto)
                var attr = Tensorflow_AttrValue()
                attr.list = list
                n.attr["_output_shapes"] = attr
            }
            if let dtype = node.dtype {
                var attr = Tensorflow_AttrValue()
                attr.type = dataType(dtype)
                n.attr["dtype"] = attr
            }
            for (key, value) in node.attributes { n.attr[key] = attrValue(value) }
            return n
        }
        return def
    }

    private static func metadata(plugin: String, content: [UInt8]) -> Tensorflow_SummaryMetadata {
        var m = Tensorflow_SummaryMetadata()
        m.pluginData.pluginName = plugin
        m.pluginData.content = Data(content)
        return m
    }

    private static func shapeProto(_ shape: [Int]) -> Tensorflow_TensorShapeProto {
        var proto = Tensorflow_TensorShapeProto()
        proto.dim = shape.map { size in
            var d = Tensorflow_TensorShapeProto.Dim()
            d.size = Int64(size)
            return d
        }
        return proto
    }

    private static func dataType(_ dtype: DType) -> Tensorflow_DataType {
        switch dtype {
        case .bool: .dtBool
        case .int32: .dtInt32
        case .int64: .dtInt64
        case .float32: .dtFloat
        case .float64: .dtDouble
        }
    }

    private static func attrValue(_ value: GraphAttributeValue) -> Tensorflow_AttrValue {
        var a = Tensorflow_AttrValue()
        switch value {
        case .string(let s): a.s = Data(s.utf8)
        case .int(let i): a.i = Int64(i)
        case .double(let d): a.f = Float(d)
        case .bool(let b): a.b = b
        case .shape(let s): a.shape = shapeProto(s)
        case .ints(let l): a.list.i = l.map { Int64($0) }
        case .doubles(let l): a.list.f = l.map { Float($0) }
        case .strings(let l): a.list.s = l.map { Data($0.utf8) }
        }
        return a
    }
}
